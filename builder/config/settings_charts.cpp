// Settings: charts (the mybinder meta-chart and cert-manager baked into the charts layer, as
// builder/charts/bake.hpp describes). Defaults pin jupyterhub/mybinder.org-deploy at the commit of
// ../shared/reference/mybinder and the chartpress tags chartpress 2.4.0 computes there
// (reference/mirror/README.md facts (d)); ci/refresh-chart-pins recomputes them from a clone.
#include <regex>

#include "config/settings_internal.hpp"

namespace binder::config::detail {
namespace {

constexpr std::string_view k_codeload = "https://codeload.github.com/jupyterhub/mybinder.org-deploy/tar.gz/";

bool has_scheme(std::string_view v, std::initializer_list<std::string_view> schemes) {
  for (auto s : schemes) {
    if (v.starts_with(s) && v.size() > s.size())
      return true;
  }
  return false;
}

// A ${VAR}-expanded URL with one of `schemes`, into `out`.
void get_url_of(const Node* n, ParseCtx& c, Located<std::string>& out,
                std::initializer_list<std::string_view> schemes) {
  if (!c.expect_scalar(*n))
    return;
  auto v = c.expanded(*n);
  if (!v)
    return;
  if (!has_scheme(*v, schemes)) {
    std::string list;
    for (auto s : schemes)
      list += (list.empty() ? "" : ", ") + std::string(s);
    c.error(*n, fmt::format("'{}': '{}' is not a URL ({})", c.key, *v, list));
    return;
  }
  out = {*v, n->loc};
}

void parse_commit(const Node* n, ParseCtx& c) {
  if (!c.get(*n, c.p.charts.mybinder.commit))
    return;
  static const std::regex k_re("[0-9a-f]{40}");
  if (!std::regex_match(n->text, k_re)) {
    c.error(*n,
            fmt::format("'{}': '{}' is not a full git commit id (40 lowercase hex digits)", c.key, n->text));
  }
}

void parse_version(const Node* n, ParseCtx& c, Located<std::string>& out, bool allow_empty) {
  if (!c.get(*n, out))
    return;
  static const std::regex k_re(R"(v?[0-9]+\.[0-9]+\.[0-9]+([-+.][0-9A-Za-z.+-]+)?)");
  if ((!allow_empty || !n->text.empty()) && !std::regex_match(n->text, k_re)) {
    c.error(*n, fmt::format("'{}': '{}' is not a chart version (semver, e.g. '1.2.3' or 'v1.20.2')", c.key,
                            n->text));
  }
}

void parse_images(const Node* n, ParseCtx& c) {
  if (!c.expect(*n, Node::Kind::map, "a mapping"))
    return;
  static const std::regex k_path(R"([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)");
  static const std::regex k_ref(
      R"([a-z0-9][a-z0-9._/-]*(:[0-9]+)?[a-z0-9._/-]*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
  c.p.charts.mybinder.images.clear();
  for (const Entry& e : n->entries) {
    if (!std::regex_match(e.key, k_path)) {
      c.diags.error(e.key_loc, fmt::format("'{}': invalid values path '{}'", c.key, e.key), std::nullopt,
                    static_cast<int>(e.key.size()));
      continue;
    }
    if (e.value.kind != Node::Kind::scalar || !std::regex_match(e.value.text, k_ref)) {
      c.diags.error(
          e.value.loc,
          fmt::format("'{}.{}': expected an image reference 'repository:tag', got '{}'", c.key, e.key,
                      e.value.kind == Node::Kind::scalar ? e.value.text : e.value.kind_name()));
      continue;
    }
    c.p.charts.mybinder.images[e.key] = {e.value.text, e.value.loc};
  }
}

void parse_mirrors(const Node* n, ParseCtx& c) {
  if (!c.expect(*n, Node::Kind::map, "a mapping"))
    return;
  c.p.charts.repository_mirrors.clear();
  for (const Entry& e : n->entries) {
    if (!has_scheme(e.key, {"https://", "http://", "oci://"}) && e.key != "https://" && e.key != "http://" &&
        e.key != "oci://") {
      c.diags.error(e.key_loc,
                    fmt::format("'{}': '{}' is not a repository URL prefix (https://, http:// or oci://)",
                                c.key, e.key),
                    std::nullopt, static_cast<int>(e.key.size()));
      continue;
    }
    if (e.value.kind != Node::Kind::scalar) {
      c.diags.error(e.value.loc,
                    fmt::format("'{}.{}': expected a URL, got {}", c.key, e.key, e.value.kind_name()));
      continue;
    }
    auto v = c.expanded(e.value);
    if (!v)
      continue;
    if (!has_scheme(*v, {"https://", "http://", "file://", "oci://", "oci+http://"})) {
      c.diags.error(
          e.value.loc,
          fmt::format("'{}.{}': '{}' is not a URL (https://, http://, file://, oci:// or oci+http://)", c.key,
                      e.key, *v));
      continue;
    }
    c.p.charts.repository_mirrors[e.key] = {*v, e.value.loc};
  }
}

void render_map(const std::map<std::string, Located<std::string>>& m, RenderCtx& r) {
  for (const auto& [k, v] : m) {
    r.sub("." + k, v.value, v.loc);
  }
}

void render_opt(const Located<std::string>& v, RenderCtx& r) {
  if (!v.value.empty())
    r(v.value, v.loc);
}

}  // namespace

void add_charts_settings(std::vector<SettingSpec>& out) {
  out.insert(
      out.end(),
      {
          {"charts",
           ValueKind::section,
           "",
           "Helm charts baked into the charts layer for binder-firstboot: the packaged `mybinder` "
           "meta-chart of jupyterhub/mybinder.org-deploy (dependencies resolved like `helm dependency "
           "build`, chartpress tags pinned, git-crypt files left out) and cert-manager, in "
           "`/var/lib/rancher/k3s/server/static/charts/`, described by `/etc/binder-image/charts.json`.",
           LayerKind::charts,
           {},
           false,
           false,
           [](const Node*, ParseCtx&) {},
           nullptr},
          {"charts.mybinder",
           ValueKind::section,
           "",
           "The mybinder chart source: a mybinder.org-deploy archive at a pinned commit.",
           LayerKind::charts,
           {},
           false,
           false,
           [](const Node*, ParseCtx& c) {
             auto& m = c.p.charts.mybinder;
             if (m.url.value.empty() && !m.commit.value.empty()) {
               m.url = {std::string(k_codeload) + m.commit.value, SourceLoc{"<default>", 0, 0}};
             }
           },
           nullptr},
          {"charts.mybinder.enable",
           ValueKind::boolean,
           "true",
           "Bake the charts. `false` leaves the charts layer empty (no charts.json: firstboot then "
           "cannot deploy a federation member).",
           LayerKind::charts,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get(*n, c.p.charts.mybinder.enable); },
           [](const Profile& p, RenderCtx& r) {
             r(text_of(p.charts.mybinder.enable), p.charts.mybinder.enable.loc);
           }},
          {"charts.mybinder.url",
           ValueKind::url,
           "",
           "The source archive (https://, http:// or file://); default: "
           "`https://codeload.github.com/jupyterhub/mybinder.org-deploy/tar.gz/<commit>`.",
           LayerKind::charts,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) {
             get_url_of(n, c, c.p.charts.mybinder.url, {"https://", "http://", "file://"});
           },
           [](const Profile& p, RenderCtx& r) { render_opt(p.charts.mybinder.url, r); }},
          {"charts.mybinder.commit",
           ValueKind::string,
           "95860dbcba2031b930020dbd856e76cd37ba34c8",
           "The mybinder.org-deploy commit. The archive's pax header commit id (`git get-tar-commit-id`) "
           "must equal it.",
           LayerKind::charts,
           {},
           false,
           false,
           parse_commit,
           [](const Profile& p, RenderCtx& r) {
             r(p.charts.mybinder.commit.value, p.charts.mybinder.commit.loc);
           }},
          {"charts.mybinder.sha256",
           ValueKind::string,
           "",
           "SHA-256 of the archive. Set: required to match. Empty (GitHub does not promise stable "
           "archive bytes): the archive is fetched on every build, checked by its commit id only, and "
           "the computed sha256 is shown as a warning and recorded in charts.json, the manifest and the SBOM.",
           LayerKind::charts,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) {
             if (n->kind == Node::Kind::scalar && n->text.empty())
               return;
             c.get_sha256(*n, c.p.charts.mybinder.sha256);
           },
           [](const Profile& p, RenderCtx& r) { render_opt(p.charts.mybinder.sha256, r); }},
          {"charts.mybinder.version",
           ValueKind::string,
           "2020.12.4-0.dev.git.7587.h95860dbc",
           "The chart version chartpress gives the commit (replaces `0.0.1-set.by.chartpress`).",
           LayerKind::charts,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { parse_version(n, c, c.p.charts.mybinder.version, false); },
           [](const Profile& p, RenderCtx& r) {
             r(p.charts.mybinder.version.value, p.charts.mybinder.version.loc);
           }},
          {"charts.mybinder.images",
           ValueKind::string_map,
           "{analyticsPublisher.image: "
           "\"jupyterhub/mybinder.org-analytics-publisher:2020.12.4-0.dev.git.7555.h6861e7c6\", "
           "federationRedirect.image: "
           "\"jupyterhub/mybinder.org-federation-redirect:2020.12.4-0.dev.git.7509.hd2b6c859\", "
           "minesweeper.image: \"jupyterhub/mybinder.org-minesweeper:2020.12.4-0.dev.git.7555.h6861e7c6\", "
           "podLogs.image: \"jupyterhub/mybinder.org-rsyslog:2020.12.4-0.dev.git.7045.h5ec9683d\", "
           "binderhub.jupyterhub.singleuser.initContainers.0.image: "
           "\"jupyterhub/mybinder.org-tc-init:2020.12.4-0.dev.git.7045.h5ec9683d\"}",
           "The chartpress image tags, by values path (list items by index): every `set-by-chartpress` "
           "in values.yaml must have a pin, and every pin a placeholder. `ci/refresh-chart-pins` "
           "computes them from a clone.",
           LayerKind::charts,
           {},
           false,
           true,
           parse_images,
           [](const Profile& p, RenderCtx& r) { render_map(p.charts.mybinder.images, r); }},
          {"charts.cert_manager",
           ValueKind::section,
           "",
           "cert-manager as deploy.py installs it: `oci://quay.io/jetstack/charts/cert-manager` and "
           "the release's `cert-manager.crds.yaml`.",
           LayerKind::charts,
           {},
           false,
           false,
           [](const Node*, ParseCtx&) {},
           nullptr},
          {"charts.cert_manager.version",
           ValueKind::string,
           "",
           "The cert-manager version; default: `CERT_MANAGER_VERSION` from the archive's `cert-manager.env`.",
           LayerKind::charts,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { parse_version(n, c, c.p.charts.cert_manager.version, true); },
           [](const Profile& p, RenderCtx& r) { render_opt(p.charts.cert_manager.version, r); }},
          {"charts.cert_manager.crds_url",
           ValueKind::url,
           "",
           "The CRDs file; default: "
           "`https://github.com/cert-manager/cert-manager/releases/download/<version>/cert-manager.crds.yaml`.",
           LayerKind::charts,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) {
             get_url_of(n, c, c.p.charts.cert_manager.crds_url, {"https://", "http://", "file://"});
           },
           [](const Profile& p, RenderCtx& r) { render_opt(p.charts.cert_manager.crds_url, r); }},
          {"charts.cert_manager.crds_sha256",
           ValueKind::string,
           "",
           "SHA-256 of the CRDs file; empty: fetched every build, its sha256 recorded (warning).",
           LayerKind::charts,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) {
             if (n->kind == Node::Kind::scalar && n->text.empty())
               return;
             c.get_sha256(*n, c.p.charts.cert_manager.crds_sha256);
           },
           [](const Profile& p, RenderCtx& r) { render_opt(p.charts.cert_manager.crds_sha256, r); }},
          {"charts.repository_mirrors",
           ValueKind::string_map,
           "{}",
           "Replacements for chart repository URL prefixes (longest prefix wins), for dependencies, "
           "cert-manager and the CRDs URL. The URL after replacement picks the protocol: `oci://` "
           "(`oci+http://` for a loopback registry) is an OCI registry; `https://`, `http://` or "
           "`file://` a Helm repository with `index.yaml`. Test profiles map `https://` and `oci://` to "
           "`file://<fixtures>/repos/`.",
           LayerKind::charts,
           {},
           false,
           true,
           parse_mirrors,
           [](const Profile& p, RenderCtx& r) { render_map(p.charts.repository_mirrors, r); }},
      });
}

}  // namespace binder::config::detail
