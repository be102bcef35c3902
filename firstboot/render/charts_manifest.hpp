// The image's charts manifest /etc/binder-image/charts.json (contract: notes/charts-contract.md),
// written by the builder's charts layer: the packaged mybinder chart, the cert-manager chart with
// its CRDs and values, and the folder of non-secret mybinder.org-deploy files. Federation mode
// deploys exactly these archives; the HelmChart spec.chart is
// https://%{KUBERNETES_API}%/static/charts/<basename of file> (k3s serves that folder).
//
// parse_charts_manifest() checks the shape (schema 1; unknown keys are ignored; a missing or
// mistyped required key is Errc::invalid_config naming it). load_image_charts() also reads, under
// a root, the files firstboot uses and checks their sha256 (Errc::checksum naming the key and the
// file): the two chart archives, the CRDs and the cert-manager values.
//
// `render` without an image: pinned_image_charts() carries the versions the image pins and the
// cert-manager values of mybinder's config/cert-manager.yaml at the pinned commit (no CRDs, no
// digests); `binder-firstboot render --image-root DIR` reads DIR/etc/binder-image/charts.json.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace binder::firstboot::render {

inline constexpr std::string_view k_charts_manifest_path = "/etc/binder-image/charts.json";

struct PackagedChart {
  std::string chart;  // "mybinder", "cert-manager"
  std::string version;
  std::string file;    // absolute path on the image
  std::string sha256;  // of `file`; empty in the pinned defaults
};

struct ChartsManifest {
  PackagedChart mybinder;
  PackagedChart cert_manager;
  std::string cert_manager_crds_file;
  std::string cert_manager_crds_sha256;
  std::string cert_manager_values_file;
  std::string files_dir;
  std::string source_commit;  // mybinder.source.commit
};

// What firstboot deploys from the image: the manifest plus the file contents it needs.
struct ImageCharts {
  ChartsManifest manifest;
  nlohmann::json cert_manager_values = nlohmann::json::object();  // config/cert-manager.yaml
  std::string cert_manager_values_text;                           // its text (the HelmChart valuesContent)
  std::string cert_manager_crds;  // multi-document YAML; empty in the pinned defaults
};

common::Result<ChartsManifest> parse_charts_manifest(std::string_view text, const std::string& origin);

// Reads <root>/etc/binder-image/charts.json and the files it names (under root), verifying each
// file's sha256 against the manifest.
common::Result<ImageCharts> load_image_charts(const std::filesystem::path& root);

// The pinned defaults for rendering without an image (see above).
ImageCharts pinned_image_charts();

// "https://%{KUBERNETES_API}%/static/charts/<basename of chart.file>"
std::string static_chart_url(const PackagedChart& chart);

// The documents of a multi-document YAML text (split at "---" lines; empty documents dropped).
common::Result<std::vector<nlohmann::json>> yaml_documents(std::string_view text, const std::string& origin);

}  // namespace binder::firstboot::render
