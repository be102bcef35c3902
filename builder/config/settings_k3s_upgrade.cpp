// Settings: k3s.upgrade (rancher/system-upgrade-controller and mybinder's k3s upgrade Plan, baked
// into the server manifests dir). The defaults pin v0.20.1: crd.yaml's digest is the release
// asset's (reference/mirror/system-upgrade-controller/v0.20.1/README.md); the manifest's is that of
// the release recipe's render of the tag (the asset's own digest was not available to confirm), so
// a differing download is refused and names both digests rather than baked unverified.
#include <regex>

#include "common/k3s_upgrade_plan.hpp"
#include "config/k3s_upgrade.hpp"
#include "config/settings_internal.hpp"

namespace binder::config {
namespace {

constexpr std::string_view k_controller_sha256 =
    "11ba712de8b887b937e521a7278bcd37ba06975c581646903fd8ae8e296f3bfc";
constexpr std::string_view k_crd_sha256 = "68a2e6b786dc3a3d47f0ac557b06833d2f773d801f482f43d37c7e819309c656";

common::Result<UpgradeDownload> download(const K3sUpgrade& u, const Located<std::string>& url,
                                         const Located<std::string>& sha, std::string_view file,
                                         std::string_view pinned, std::string_view sha_key) {
  UpgradeDownload d;
  d.url =
      url.value.empty() ? fmt::format("{}{}/{}", k_suc_release, u.controller_version.value, file) : url.value;
  d.sha256 = sha.value;
  if (d.sha256.empty()) {
    if (u.controller_version.value != k_suc_version) {
      return common::fail(common::Errc::invalid_config,
                          "{}: k3s.upgrade.{}: required for controller_version '{}' (only {} is pinned)",
                          u.controller_version.loc.to_string(), sha_key, u.controller_version.value,
                          k_suc_version);
    }
    d.sha256 = pinned;
  }
  auto slash = d.url.rfind('/');
  d.name = slash == std::string::npos ? d.url : d.url.substr(slash + 1);
  if (d.name.empty())
    d.name = std::string(file);
  return d;
}

}  // namespace

common::Result<UpgradeDownload> upgrade_controller_download(const K3sUpgrade& u) {
  return download(u, u.controller_url, u.controller_sha256, "system-upgrade-controller.yaml",
                  k_controller_sha256, "controller_sha256");
}

common::Result<UpgradeDownload> upgrade_crd_download(const K3sUpgrade& u) {
  return download(u, u.crd_url, u.crd_sha256, "crd.yaml", k_crd_sha256, "crd_sha256");
}

std::string upgrade_plan_yaml(const K3sUpgrade& u) {
  std::string target = u.pinned_version() ? fmt::format("version: {}", u.channel.value)
                                          : fmt::format("channel: {}", u.channel.value);
  return common::k3s_upgrade_plan_yaml(target);
}

namespace detail {
namespace {

bool upgrade_has_scheme(std::string_view v, std::initializer_list<std::string_view> schemes) {
  for (auto s : schemes) {
    if (v.starts_with(s) && v.size() > s.size())
      return true;
  }
  return false;
}

void get_download_url(const Node* n, ParseCtx& c, Located<std::string>& out) {
  if (!c.expect_scalar(*n))
    return;
  auto v = c.expanded(*n);
  if (!v)
    return;
  if (!upgrade_has_scheme(*v, {"https://", "http://", "file://"})) {
    c.error(*n, fmt::format("'{}': '{}' is not a URL (https://, http:// or file://)", c.key, *v));
    return;
  }
  out = {*v, n->loc};
}

void parse_channel(const Node* n, ParseCtx& c) {
  if (!c.get(*n, c.p.k3s.upgrade.channel))
    return;
  static const std::regex k_version(R"(v[0-9]+\.[0-9]+\.[0-9]+(-rc[0-9]+)?\+k3s[0-9]+)");
  if (!upgrade_has_scheme(n->text, {"https://", "http://"}) && !std::regex_match(n->text, k_version)) {
    c.error(*n, fmt::format("'{}': '{}' is neither a channel URL (https://update.k3s.io/v1-release/"
                            "channels/<name>) nor a k3s version (e.g. 'v1.33.6+k3s1')",
                            c.key, n->text));
  }
}

void parse_controller_version(const Node* n, ParseCtx& c) {
  if (!c.get(*n, c.p.k3s.upgrade.controller_version))
    return;
  static const std::regex k_re(R"(v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?)");
  if (!std::regex_match(n->text, k_re)) {
    c.error(*n, fmt::format("'{}': '{}' is not a release tag (e.g. 'v0.20.1')", c.key, n->text));
  }
}

void render_upgrade_opt(const Located<std::string>& v, RenderCtx& r) {
  if (!v.value.empty())
    r(v.value, v.loc);
}

}  // namespace

void add_k3s_upgrade_settings(std::vector<SettingSpec>& out) {
  out.insert(
      out.end(),
      {
          {"k3s.upgrade",
           ValueKind::section,
           "",
           "k3s upgrades by rancher/system-upgrade-controller, as mybinder.org's k3s members run them: "
           "the controller release (`crd.yaml` and `system-upgrade-controller.yaml`, which creates the "
           "`system-upgrade` namespace) and mybinder's Plan (config/k3s/k3s-upgrade-plan.yaml: one node "
           "at a time, Sundays 00:00-02:00 UTC), downloaded into the download cache, sha256-verified and "
           "placed in `/var/lib/rancher/k3s/server/manifests/system-upgrade-*.yaml`, so k3s applies "
           "them when the server starts. Listed in build.json (`k3s_upgrade`) and by `inspect`.",
           LayerKind::system,
           {},
           false,
           false,
           [](const Node*, ParseCtx&) {},
           nullptr},
          {"k3s.upgrade.enable",
           ValueKind::boolean,
           "true",
           "Bake the controller, its CRD and the Plan. `false` leaves all three out (k3s stays at "
           "`k3s.version` until upgraded by hand).",
           LayerKind::system,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get(*n, c.p.k3s.upgrade.enable); },
           [](const Profile& p, RenderCtx& r) {
             r(text_of(p.k3s.upgrade.enable), p.k3s.upgrade.enable.loc);
           }},
          {"k3s.upgrade.channel",
           ValueKind::string,
           std::string_view(k_k3s_stable_channel),
           "What the Plan follows: a k3s release channel URL (mybinder's Plan follows `stable`), or a "
           "k3s version such as `v1.33.6+k3s1` to pin one (the Plan's `version` instead of `channel`).",
           LayerKind::system,
           {},
           false,
           false,
           parse_channel,
           [](const Profile& p, RenderCtx& r) { r(p.k3s.upgrade.channel.value, p.k3s.upgrade.channel.loc); }},
          {"k3s.upgrade.controller_version",
           ValueKind::string,
           std::string_view(k_suc_version),
           "The system-upgrade-controller release; the default URLs follow it. Any other version needs "
           "`controller_sha256` and `crd_sha256`.",
           LayerKind::system,
           {},
           false,
           false,
           parse_controller_version,
           [](const Profile& p, RenderCtx& r) {
             r(p.k3s.upgrade.controller_version.value, p.k3s.upgrade.controller_version.loc);
           }},
          {"k3s.upgrade.controller_url",
           ValueKind::url,
           "",
           "Where `system-upgrade-controller.yaml` comes from (https://, http:// or file://). Default: "
           "`https://github.com/rancher/system-upgrade-controller/releases/download/<controller_version>/"
           "system-upgrade-controller.yaml`.",
           LayerKind::system,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { get_download_url(n, c, c.p.k3s.upgrade.controller_url); },
           [](const Profile& p, RenderCtx& r) { render_upgrade_opt(p.k3s.upgrade.controller_url, r); }},
          {"k3s.upgrade.controller_sha256",
           ValueKind::string,
           "",
           "SHA-256 of `system-upgrade-controller.yaml`. Default for v0.20.1: `11ba712d…3bfc`, the "
           "release recipe's render of the tag (the published asset's digest is not confirmed; a "
           "differing download is refused, naming both digests).",
           LayerKind::system,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_sha256(*n, c.p.k3s.upgrade.controller_sha256); },
           [](const Profile& p, RenderCtx& r) { render_upgrade_opt(p.k3s.upgrade.controller_sha256, r); }},
          {"k3s.upgrade.crd_url",
           ValueKind::url,
           "",
           "Where `crd.yaml` (the Plan CRD) comes from. Default: the release's `crd.yaml`.",
           LayerKind::system,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { get_download_url(n, c, c.p.k3s.upgrade.crd_url); },
           [](const Profile& p, RenderCtx& r) { render_upgrade_opt(p.k3s.upgrade.crd_url, r); }},
          {"k3s.upgrade.crd_sha256",
           ValueKind::string,
           "",
           "SHA-256 of `crd.yaml`. Default for v0.20.1: `68a2e6b7…c656`, the release asset's.",
           LayerKind::system,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_sha256(*n, c.p.k3s.upgrade.crd_sha256); },
           [](const Profile& p, RenderCtx& r) { render_upgrade_opt(p.k3s.upgrade.crd_sha256, r); }},
      });
}

}  // namespace detail
}  // namespace binder::config
