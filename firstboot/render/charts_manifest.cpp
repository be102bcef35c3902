// The image charts manifest reader (see charts_manifest.hpp).
#include "firstboot/render/charts_manifest.hpp"

#include "common/fs.hpp"
#include "common/hash.hpp"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/yaml.hpp"

namespace binder::firstboot::render {

using common::Errc;
using common::fail;
using nlohmann::json;

namespace {

// The string at `key` of `obj`; `path` names it in errors ("cert_manager.file").
common::Result<std::string> required_string(const json& obj, const std::string& key, const std::string& path,
                                            const std::string& origin) {
  if (!obj.is_object() || !obj.contains(key)) {
    return fail(Errc::invalid_config, "{}: required key '{}' is missing", origin, path);
  }
  if (!obj.at(key).is_string() || obj.at(key).get<std::string>().empty()) {
    return fail(Errc::invalid_config, "{}: key '{}' must be a non-empty string", origin, path);
  }
  return obj.at(key).get<std::string>();
}

common::Result<const json*> required_object(const json& obj, const std::string& key,
                                            const std::string& origin) {
  if (!obj.contains(key))
    return fail(Errc::invalid_config, "{}: required key '{}' is missing", origin, key);
  if (!obj.at(key).is_object())
    return fail(Errc::invalid_config, "{}: key '{}' must be a mapping", origin, key);
  return &obj.at(key);
}

common::Result<PackagedChart> packaged(const json& obj, const std::string& section,
                                       const std::string& origin) {
  PackagedChart c;
  TRY_ASSIGN(c.chart, required_string(obj, "chart", section + ".chart", origin));
  TRY_ASSIGN(c.version, required_string(obj, "version", section + ".version", origin));
  TRY_ASSIGN(c.file, required_string(obj, "file", section + ".file", origin));
  TRY_ASSIGN(c.sha256, required_string(obj, "sha256", section + ".sha256", origin));
  if (c.file.front() != '/') {
    return fail(Errc::invalid_config, "{}: key '{}.file' must be an absolute path, got '{}'", origin, section,
                c.file);
  }
  return c;
}

// The file `abs` under root after checking its sha256 (named by `key` in errors).
common::Result<std::string> verified(const std::filesystem::path& root, const std::string& abs,
                                     const std::string& sha256, const std::string& key) {
  auto path = root / std::filesystem::path(abs).relative_path();
  auto text = common::fs::read_file(path);
  if (!text) {
    return fail(Errc::not_found, "charts manifest key '{}': cannot read {}: {}", key, path.string(),
                text.error().message);
  }
  std::string got = common::hash::sha256_hex(*text);
  if (!sha256.empty() && got != sha256) {
    return fail(Errc::checksum, "charts manifest key '{}': {} has sha256 {}, the manifest says {}", key,
                path.string(), got, sha256);
  }
  return *text;
}

}  // namespace

common::Result<ChartsManifest> parse_charts_manifest(std::string_view text, const std::string& origin) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return fail(Errc::invalid_config, "{}: not a JSON object", origin);
  }
  if (!j.contains("schema"))
    return fail(Errc::invalid_config, "{}: required key 'schema' is missing", origin);
  if (j["schema"] != 1) {
    return fail(Errc::invalid_config, "{}: key 'schema' is {}, this firstboot reads schema 1", origin,
                j["schema"].dump());
  }
  ChartsManifest m;
  TRY_ASSIGN(const json* mb, required_object(j, "mybinder", origin));
  TRY_ASSIGN(m.mybinder, packaged(*mb, "mybinder", origin));
  if (mb->contains("source") && (*mb)["source"].is_object()) {
    m.source_commit = (*mb)["source"].value("commit", "");
  }
  TRY_ASSIGN(const json* cm, required_object(j, "cert_manager", origin));
  TRY_ASSIGN(m.cert_manager, packaged(*cm, "cert_manager", origin));
  TRY_ASSIGN(m.cert_manager_crds_file, required_string(*cm, "crds_file", "cert_manager.crds_file", origin));
  TRY_ASSIGN(m.cert_manager_crds_sha256,
             required_string(*cm, "crds_sha256", "cert_manager.crds_sha256", origin));
  TRY_ASSIGN(m.cert_manager_values_file,
             required_string(*cm, "values_file", "cert_manager.values_file", origin));
  TRY_ASSIGN(m.files_dir, required_string(j, "files_dir", "files_dir", origin));
  return m;
}

common::Result<ImageCharts> load_image_charts(const std::filesystem::path& root) {
  auto path = root / std::filesystem::path(k_charts_manifest_path).relative_path();
  auto text = common::fs::read_file(path);
  if (!text) {
    return fail(Errc::not_found,
                "the image's charts manifest {} cannot be read ({}): is this a binder-image "
                "with packaged charts?",
                path.string(), text.error().message);
  }
  ImageCharts out;
  TRY_ASSIGN(out.manifest, parse_charts_manifest(*text, path.string()));
  const ChartsManifest& m = out.manifest;
  TRY(verified(root, m.mybinder.file, m.mybinder.sha256, "mybinder.file"));
  TRY(verified(root, m.cert_manager.file, m.cert_manager.sha256, "cert_manager.file"));
  TRY_ASSIGN(out.cert_manager_crds,
             verified(root, m.cert_manager_crds_file, m.cert_manager_crds_sha256, "cert_manager.crds_file"));
  TRY_ASSIGN(auto docs, yaml_documents(out.cert_manager_crds, m.cert_manager_crds_file));
  if (docs.empty()) {
    return fail(Errc::invalid_config, "charts manifest key 'cert_manager.crds_file': {} holds no document",
                m.cert_manager_crds_file);
  }
  // The values file has no digest in the manifest (it is part of files_dir, covered by the image
  // manifest); it must parse as a mapping.
  TRY_ASSIGN(std::string values, verified(root, m.cert_manager_values_file, "", "cert_manager.values_file"));
  TRY_ASSIGN(out.cert_manager_values, from_yaml(values, m.cert_manager_values_file));
  out.cert_manager_values_text = values;
  if (out.cert_manager_values.is_null())
    out.cert_manager_values = json::object();
  if (!out.cert_manager_values.is_object()) {
    return fail(Errc::invalid_config, "charts manifest key 'cert_manager.values_file': {} is not a mapping",
                m.cert_manager_values_file);
  }
  return out;
}

ImageCharts pinned_image_charts() {
  ImageCharts out;
  ChartsManifest& m = out.manifest;
  const std::string dir = "/var/lib/rancher/k3s/server/static/charts/";
  m.mybinder = {"mybinder", k_mybinder_chart_version,
                dir + "mybinder-" + std::string(k_mybinder_chart_version) + ".tgz", ""};
  m.cert_manager = {"cert-manager", k_cert_manager_chart_version,
                    dir + "cert-manager-" + std::string(k_cert_manager_chart_version) + ".tgz", ""};
  m.cert_manager_crds_file = dir + "cert-manager-" + std::string(k_cert_manager_chart_version) + ".crds.yaml";
  m.files_dir = "/usr/share/binder-image/mybinder";
  m.cert_manager_values_file = m.files_dir + "/config/cert-manager.yaml";
  m.source_commit = k_mybinder_source_commit;
  // mybinder.org-deploy config/cert-manager.yaml at the pinned commit, as data.
  out.cert_manager_values = json::parse(R"({
    "ingressShim": {"defaultIssuerName": "letsencrypt-prod", "defaultIssuerKind": "ClusterIssuer"},
    "resources": {"requests": {"cpu": "15m", "memory": "48Mi"}, "limits": {"cpu": "45m", "memory": "144Mi"}},
    "webhook": {"resources": {"requests": {"cpu": "15m", "memory": "48Mi"}, "limits": {"cpu": "45m", "memory": "144Mi"}}},
    "cainjector": {"resources": {"requests": {"cpu": "15m", "memory": "48Mi"}, "limits": {"cpu": "45m", "memory": "144Mi"}}}
  })");
  out.cert_manager_values_text = to_yaml(out.cert_manager_values);
  return out;
}

std::string static_chart_url(const PackagedChart& chart) {
  return "https://%{KUBERNETES_API}%/static/charts/" + std::filesystem::path(chart.file).filename().string();
}

common::Result<std::vector<json>> yaml_documents(std::string_view text, const std::string& origin) {
  std::vector<json> docs;
  std::string current;
  int index = 0;
  auto flush = [&]() -> common::Result<void> {
    ++index;
    TRY_ASSIGN(json doc, from_yaml(current, fmt::format("{} (document {})", origin, index)));
    if (!doc.is_null() && !(doc.is_object() && doc.empty()))
      docs.push_back(std::move(doc));
    current.clear();
    return {};
  };
  size_t b = 0;
  while (b < text.size()) {
    size_t e = text.find('\n', b);
    std::string_view line = text.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
    b = e == std::string_view::npos ? text.size() : e + 1;
    if (line == "---" || line.starts_with("--- ") || line == "---\r") {
      TRY(flush());
      continue;
    }
    current.append(line);
    current += '\n';
  }
  TRY(flush());
  return docs;
}

}  // namespace binder::firstboot::render
