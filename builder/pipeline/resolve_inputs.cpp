// See resolve_inputs.hpp.
#include "pipeline/resolve_inputs.hpp"

#include <unistd.h>

#include "base/fetch.hpp"
#include "charts/bake.hpp"
#include "common/hash.hpp"
#include "common/log.hpp"
#include "config/k3s_upgrade.hpp"
#include "image/archive.hpp"

namespace binder::pipeline {
namespace {

using common::Errc;
using common::fail;
namespace stdfs = std::filesystem;

base::ArtifactSource to_source(const config::Artifact& a) {
  base::ArtifactSource s;
  s.url = a.url.value;
  s.file = a.file.value;
  s.sha256 = a.checksum.sha256.value;
  s.sha256sums = a.checksum.sha256sums.value;
  s.signature = a.checksum.signature.value;
  s.keyring = a.checksum.keyring.value;
  s.signing_key = a.checksum.signing_key;
  s.name = a.basename();
  return s;
}

// Where an artifact was set, for error context: "profiles/x.yaml:12:5: k3s.binary".
std::string where(const config::Artifact& a, std::string_view key) {
  const auto& loc = a.is_url() ? a.url.loc : a.file.loc;
  return fmt::format("{}: {} '{}'", loc.to_string(), key, a.is_url() ? a.url.value : a.file.value.string());
}

// One download through the cache as `key` ("k3s.binary"); `at` says where it was set, for errors.
// plan (fetch_remote false) downloads nothing: a file already in the download cache is used as is.
Result<layers::InputFile> fetch_source(const base::ArtifactSource& src, bool is_url, std::string_view key,
                                       const std::string& at, layers::Progress& progress, bool fetch_remote) {
  layers::InputFile f;
  f.name = src.effective_name();
  if (!fetch_remote && is_url) {
    auto sha = base::expected_sha256(src);
    TRY_CTX(sha, "{}", at);
    f.sha256 = *sha;
    stdfs::path cached = base::CacheDir::from_env().downloads() / f.sha256 / f.name;
    std::error_code ec;
    if (stdfs::is_regular_file(cached, ec)) {
      f.path = cached;
    }
    return f;
  }
  auto step = progress.step(fmt::format("fetch:{}", key), fmt::format("{} '{}'", key, f.name));
  auto fetched = base::fetch_artifact(src, base::CacheDir::from_env());
  TRY_CTX(fetched, "{}", at);
  base::Fetched got = *fetched;
  f.path = got.path;
  f.sha256 = got.sha256;
  if (f.sha256.empty()) {
    TRY_ASSIGN(f.sha256, common::hash::sha256_file(f.path));
  }
  step.finish(got.cached ? "cached" : "verified", {{"sha256", f.sha256}});
  return f;
}

Result<layers::InputFile> fetch(const config::Artifact& a, std::string_view key, layers::Progress& progress,
                                bool fetch_remote, bool require_checksum = true) {
  base::ArtifactSource src = to_source(a);
  src.require_checksum = require_checksum;
  return fetch_source(src, a.is_url(), key, where(a, key), progress, fetch_remote);
}

// A k3s.upgrade release file: verified against its pinned sha256 through the download cache.
Result<layers::InputFile> fetch_upgrade_file(const config::Profile& p, bool crd, layers::Progress& progress,
                                             bool fetch_remote) {
  const auto& u = p.k3s.upgrade;
  auto d = crd ? config::upgrade_crd_download(u) : config::upgrade_controller_download(u);
  TRY(d);
  const auto& url = crd ? u.crd_url : u.controller_url;
  std::string key = crd ? "k3s.upgrade.crd_url" : "k3s.upgrade.controller_url";
  std::string loc = url.value.empty() ? u.controller_version.loc.to_string() : url.loc.to_string();
  base::ArtifactSource src;
  src.url = d->url;
  src.sha256 = d->sha256;
  src.name = d->name;
  return fetch_source(src, true, key, fmt::format("{}: {} '{}'", loc, key, d->url), progress, fetch_remote);
}

Result<layers::InputFile> local_file(const stdfs::path& path, std::string name) {
  layers::InputFile f;
  f.path = path;
  f.name = std::move(name);
  TRY_ASSIGN(f.sha256, common::hash::sha256_file(path));
  return f;
}

charts::ChartsOptions charts_options(const config::Profile& p, std::int64_t file_time) {
  const auto& c = p.charts;
  charts::ChartsOptions o;
  o.url = c.mybinder.url.value;
  o.commit = c.mybinder.commit.value;
  o.sha256 = c.mybinder.sha256.value;
  o.version = c.mybinder.version.value;
  for (const auto& [path, ref] : c.mybinder.images) {
    o.images[path] = ref.value;
  }
  o.cert_manager_version = c.cert_manager.version.value;
  o.crds_url = c.cert_manager.crds_url.value;
  o.crds_sha256 = c.cert_manager.crds_sha256.value;
  for (const auto& [from, to] : c.repository_mirrors) {
    o.mirrors.emplace_back(from, to.value);
  }
  o.mtime = file_time;
  return o;
}

// The charts layer's content: resolved, downloaded (cached) and packaged before any hashing.
// Plan mode bakes too (the digest depends on the resolved dependencies); cached archives are
// reused, index.yaml and manifests are fetched.
Result<charts::BakedCharts> bake(const config::Profile& p, std::int64_t file_time,
                                 layers::Progress& progress) {
  auto step =
      progress.step("charts", fmt::format("charts: mybinder {} at {}", p.charts.mybinder.version.value,
                                          p.charts.mybinder.commit.value.substr(0, 12)));
  charts::Downloader dl(base::CacheDir::from_env());
  auto baked = charts::bake_charts(charts_options(p, file_time), dl);
  const auto& commit = p.charts.mybinder.commit;
  TRY_CTX(baked, "{}: charts.mybinder (commit {})",
          commit.is_set() ? commit.loc.to_string() : p.path.string(), commit.value);
  for (const auto& w : baked->warnings) {
    common::log::warn("{}", w);
  }
  step.finish("packaged", {{"sha256", baked->charts_json["mybinder"]["sha256"].get<std::string>()}});
  return std::move(*baked);
}

}  // namespace

Result<stdfs::path> default_firstboot_binary() {
  if (const char* env = std::getenv("BINDER_FIRSTBOOT"); env != nullptr && *env != '\0') {
    return stdfs::path(env);
  }
  std::error_code ec;
  stdfs::path exe = stdfs::read_symlink("/proc/self/exe", ec);
  std::vector<stdfs::path> candidates;
  if (!ec) {
    stdfs::path dir = exe.parent_path();
    candidates = {dir / "binder-firstboot", dir.parent_path() / "firstboot" / "binder-firstboot"};
  }
  candidates.emplace_back("/usr/local/sbin/binder-firstboot");
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) {
      return c;
    }
  }
  return fail(Errc::not_found,
              "binder-firstboot binary not found (looked next to binder-image, in ../firstboot/ and "
              "/usr/local/sbin); build it, or set firstboot.binary or BINDER_FIRSTBOOT");
}

Result<layers::ResolvedInputs> resolve_inputs(const config::Profile& p, const common::BuildDate& date,
                                              layers::Progress& progress, bool fetch_remote) {
  layers::ResolvedInputs in;
  in.file_time = date.file_time();
  in.base_is_rootfs = p.base.kind.value == config::BaseKind::rootfs;
  TRY_ASSIGN(in.base, fetch(p.base.artifact, "base", progress, fetch_remote, !in.base_is_rootfs));
  if (p.k3s.install.value) {
    TRY_ASSIGN(in.k3s_binary, fetch(p.k3s.binary, "k3s.binary", progress, fetch_remote));
    if (p.k3s.airgap_images) {
      TRY_ASSIGN(in.airgap_images, fetch(*p.k3s.airgap_images, "k3s.airgap_images", progress, fetch_remote));
    }
    if (p.k3s.upgrade.enable.value) {
      TRY_ASSIGN(in.upgrade_crd, fetch_upgrade_file(p, true, progress, fetch_remote));
      TRY_ASSIGN(in.upgrade_controller, fetch_upgrade_file(p, false, progress, fetch_remote));
    }
  }
  if (p.charts.mybinder.enable.value) {
    TRY_ASSIGN(in.charts, bake(p, in.file_time, progress));
  }
  stdfs::path fb = p.firstboot.binary.value;
  if (fb.empty()) {
    TRY_ASSIGN(fb, default_firstboot_binary());
  }
  auto fb_file = local_file(fb, "binder-firstboot");
  TRY_CTX(fb_file, "firstboot binary");
  in.firstboot_binary = *fb_file;
  std::error_code ec;
  stdfs::path unit = stdfs::path(BINDER_SOURCE_DIR) / "firstboot/units/binder-firstboot.service";
  if (stdfs::is_regular_file(unit, ec)) {
    in.firstboot_unit = unit;
  }
  if (!p.member.file.value.empty()) {
    auto member = local_file(p.member.file.value, "member.yaml");
    TRY_CTX(member, "{}: member.file", p.member.file.loc.to_string());
    in.member = *member;
  }
  return in;
}

}  // namespace binder::pipeline
