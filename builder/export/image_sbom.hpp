// The SBOM published with a built image: the SPDX document (sbom.hpp) of the packages in its
// dpkg status, named after the profile, the distribution taken from its os-release, the baked
// charts (charts.json, charts/bake.hpp) as extra packages, created at the build's date.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "export/sbom.hpp"

namespace binder::exporter {

struct ImageSbomInputs {
  std::string profile_name;               // document name "binder-image-<profile_name>"
  std::string dpkg_status;                // the image's /var/lib/dpkg/status
  std::optional<std::string> os_release;  // the image's /etc/os-release; nullopt: debian, no version
  nlohmann::json charts_json;             // charts.json; null: no charts baked
  std::int64_t created_epoch = 0;         // the build's SOURCE_DATE_EPOCH (BuildDate::file_time())
};

// The baked charts as SBOM components: the source archive, the packaged chart, every dependency,
// cert-manager and its CRDs (charts.json holds every URL and digest). Empty for a null json.
// Errc::corrupt_state if charts.json lacks a field it must have.
common::Result<std::vector<ExtraPackage>> chart_packages(const nlohmann::json& charts_json);

// The SPDX JSON text; errors as spdx_sbom_from_dpkg_status() and chart_packages().
common::Result<std::string> image_sbom(const ImageSbomInputs& in);

}  // namespace binder::exporter
