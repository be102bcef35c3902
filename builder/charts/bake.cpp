// See bake.hpp.
#include "charts/bake.hpp"

#include <algorithm>

#include "charts/package.hpp"
#include "charts/tgz.hpp"
#include "common/hash.hpp"

namespace binder::charts {
namespace {

using common::Errc;
using common::fail;

struct Source {
  std::vector<ArchiveFile> files;  // paths without the top directory
  std::string sha256;
  std::string commit_id;
};

Result<Source> fetch_source(const ChartsOptions& o, Downloader& dl, std::vector<std::string>& warnings) {
  std::string url = apply_mirrors(o.url, o.mirrors);
  std::string name = fmt::format("mybinder.org-deploy-{}.tar.gz", o.commit);
  std::string what = fmt::format("mybinder.org-deploy archive '{}'", url);
  Download d;
  if (o.sha256.empty()) {
    auto got = dl.unpinned(url, name);
    TRY_CTX(got, "charts.mybinder: fetching the chart source at commit {}", o.commit);
    d = std::move(*got);
    warnings.push_back(
        fmt::format("charts.mybinder.sha256 is not set: the source archive '{}' was checked by its commit id "
                    "only; its sha256 is {} (set charts.mybinder.sha256 to pin it)",
                    url, d.sha256));
  } else {
    auto got = dl.verified(url, o.sha256, name);
    TRY_CTX(got, "charts.mybinder: fetching the chart source at commit {}", o.commit);
    d = std::move(*got);
  }
  Source s;
  s.sha256 = d.sha256;
  TRY_ASSIGN(s.commit_id, tar_commit_id(d.bytes, what));
  if (s.commit_id.empty() && o.sha256.empty()) {
    return fail(Errc::checksum,
                "{}: no commit id in the archive's pax header, and charts.mybinder.sha256 is not set: "
                "nothing verifies it is commit {}",
                what, o.commit);
  }
  if (!s.commit_id.empty() && s.commit_id != o.commit) {
    return fail(Errc::checksum, "{}: the archive is commit {}, charts.mybinder.commit is {}", what,
                s.commit_id, o.commit);
  }
  TRY_ASSIGN(auto files, read_tgz(d.bytes, what));
  std::string top;
  for (auto& f : files) {
    auto slash = f.path.find('/');
    std::string first = f.path.substr(0, slash);
    if (slash == std::string::npos || (!top.empty() && first != top)) {
      if (f.path == "pax_global_header")
        continue;
      return fail(Errc::corrupt_state, "{}: expected one top-level directory, found '{}'", what, f.path);
    }
    top = first;
    f.path = f.path.substr(slash + 1);
    s.files.push_back(std::move(f));
  }
  return s;
}

const ArchiveFile* find(const std::vector<ArchiveFile>& files, std::string_view path) {
  for (const auto& f : files) {
    if (f.path == path)
      return &f;
  }
  return nullptr;
}

}  // namespace

std::string env_value(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    while (!line.empty() && line.front() == ' ')
      line.remove_prefix(1);
    if (line.starts_with("export "))
      line.remove_prefix(7);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == '=') {
      std::string v(line.substr(key.size() + 1));
      while (!v.empty() && (v.back() == '\r' || v.back() == ' '))
        v.pop_back();
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
        v = v.substr(1, v.size() - 2);
      }
      return v;
    }
  }
  return "";
}

Result<BakedCharts> bake_charts(const ChartsOptions& o, Downloader& dl) {
  BakedCharts out;
  TRY_ASSIGN(Source src, fetch_source(o, dl, out.warnings));

  // The chart directory and the non-secret files firstboot needs.
  std::vector<ArchiveFile> chart;
  for (const auto& f : src.files) {
    if (f.path.starts_with("mybinder/")) {
      chart.push_back(ArchiveFile{f.path.substr(9), f.data, f.mode});
    }
  }
  const ArchiveFile* chart_yaml = find(chart, "Chart.yaml");
  const ArchiveFile* cm_values = find(src.files, "config/cert-manager.yaml");
  const ArchiveFile* cm_env = find(src.files, "cert-manager.env");
  if (chart_yaml == nullptr || cm_values == nullptr || cm_env == nullptr) {
    return fail(Errc::invalid_config,
                "charts.mybinder: the source archive '{}' has no {} (is it mybinder.org-deploy?)", o.url,
                chart_yaml == nullptr
                    ? "mybinder/Chart.yaml"
                    : (cm_values == nullptr ? "config/cert-manager.yaml" : "cert-manager.env"));
  }

  // Dependencies, as `helm dependency build`.
  TRY_ASSIGN(auto refs, parse_dependencies(chart_yaml->data, "mybinder/Chart.yaml"));
  PackageInput in;
  in.files = chart;
  in.version = o.version;
  in.images = o.images;
  in.mtime = o.mtime;
  for (const auto& ref : refs) {
    TRY_ASSIGN(auto resolved, resolve_chart(ref, o.mirrors, dl));
    in.dependencies.push_back(std::move(resolved));
  }
  TRY_ASSIGN(Packaged pkg, package_chart(in));

  // cert-manager: the chart and CRDs deploy.py installs.
  std::string cm_version = o.cert_manager_version;
  if (cm_version.empty()) {
    cm_version = env_value(cm_env->data, "CERT_MANAGER_VERSION");
    if (cm_version.empty()) {
      return fail(Errc::invalid_config,
                  "charts.cert_manager.version: not set, and cert-manager.env in '{}' has no "
                  "CERT_MANAGER_VERSION",
                  o.url);
    }
  }
  ChartRef cm_ref{"cert-manager", cm_version, std::string(k_cert_manager_oci), true};
  TRY_ASSIGN(ResolvedChart cm, resolve_chart(cm_ref, o.mirrors, dl));
  std::string crds_url = o.crds_url.empty()
                             ? fmt::format("{}{}/cert-manager.crds.yaml", k_cert_manager_release, cm_version)
                             : o.crds_url;
  std::string crds_fetch_url = apply_mirrors(crds_url, o.mirrors);
  std::string crds_name = fmt::format("cert-manager-{}.crds.yaml", cm_version);
  Download crds;
  if (o.crds_sha256.empty()) {
    auto got = dl.unpinned(crds_fetch_url, crds_name);
    TRY_CTX(got, "cert-manager CRDs version '{}' from '{}'", cm_version, crds_fetch_url);
    crds = std::move(*got);
    out.warnings.push_back(
        fmt::format("charts.cert_manager.crds_sha256 is not set: '{}' is unverified; its sha256 is {} (set "
                    "charts.cert_manager.crds_sha256 to pin it)",
                    crds_url, crds.sha256));
  } else {
    auto got = dl.verified(crds_fetch_url, o.crds_sha256, crds_name);
    TRY_CTX(got, "cert-manager CRDs version '{}' from '{}'", cm_version, crds_fetch_url);
    crds = std::move(*got);
  }

  // The image files.
  std::string dir(k_static_charts_dir);
  std::string files_dir(k_files_dir);
  std::string mybinder_path = dir + "/" + pkg.file_name;
  std::string cm_path = fmt::format("{}/cert-manager-{}.tgz", dir, cm_version);
  std::string crds_path = fmt::format("{}/cert-manager-{}.crds.yaml", dir, cm_version);
  out.files.push_back({mybinder_path, pkg.tgz});
  out.files.push_back({cm_path, cm.bytes});
  out.files.push_back({crds_path, crds.bytes});
  out.files.push_back({files_dir + "/config/cert-manager.yaml", cm_values->data});
  out.files.push_back({files_dir + "/mybinder/values.yaml", pkg.values_yaml});
  out.files.push_back({files_dir + "/cert-manager.env", cm_env->data});

  nlohmann::json deps = nlohmann::json::array();
  for (const auto& d : in.dependencies) {
    deps.push_back({{"name", d.ref.name},
                    {"version", d.ref.version},
                    {"repository", d.ref.repository},
                    {"url", d.url},
                    {"digest", d.digest}});
    out.inputs[fmt::format("dependency.{}", d.ref.name)] =
        fmt::format("{} {} {} {}", d.ref.version, d.ref.repository, d.url, d.digest);
  }
  nlohmann::json images = nlohmann::json::object();
  for (const auto& [path, ref] : o.images) {
    images[path] = ref;
  }
  nlohmann::json j;
  j["schema"] = 1;
  j["mybinder"] = {
      {"chart", "mybinder"},
      {"version", o.version},
      {"file", mybinder_path},
      {"sha256", common::hash::sha256_hex(pkg.tgz)},
      {"source",
       {{"url", o.url}, {"commit", o.commit}, {"sha256", src.sha256}, {"sha256_pinned", !o.sha256.empty()}}},
      {"dependencies", deps},
      {"images", images},
      {"excluded_files", pkg.excluded_files},
  };
  j["cert_manager"] = {
      {"chart", "cert-manager"},
      {"version", cm_version},
      {"file", cm_path},
      {"sha256", common::hash::sha256_hex(cm.bytes)},
      {"repository", std::string(k_cert_manager_oci)},
      {"digest", cm.digest},
      {"crds_file", crds_path},
      {"crds_url", crds_url},
      {"crds_sha256", crds.sha256},
      {"values_file", files_dir + "/config/cert-manager.yaml"},
  };
  j["files_dir"] = files_dir;
  out.files.push_back({std::string(k_charts_json), j.dump(2) + "\n", 0644});
  std::sort(out.files.begin(), out.files.end(),
            [](const ImageFile& a, const ImageFile& b) { return a.path < b.path; });
  out.charts_json = std::move(j);

  out.inputs["source.url"] = o.url;
  out.inputs["source.commit"] = o.commit;
  out.inputs["source.sha256"] = src.sha256;
  out.inputs["mybinder.version"] = o.version;
  for (const auto& [path, ref] : o.images) {
    out.inputs["image." + path] = ref;
  }
  out.inputs["cert_manager.version"] = cm_version;
  out.inputs["cert_manager.chart"] = fmt::format("{} {}", cm.url, cm.digest);
  out.inputs["cert_manager.crds"] = fmt::format("{} sha256:{}", crds_url, crds.sha256);
  for (const auto& [from, to] : o.mirrors) {
    out.inputs["mirror." + from] = to;
  }
  return out;
}

}  // namespace binder::charts
