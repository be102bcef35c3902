// `binder-image inspect IMAGE`: what an image holds, read-only through libguestfs (one launch,
// nothing booted): build.json, the k3s version it records and whether the binary is there, the
// units enabled, the packaged charts (charts.json, every file it names present), and the hygiene checks
// (layers/steps/hygiene.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/accel.hpp"
#include "layers/steps/hygiene_checks.hpp"

namespace binder::pipeline {

using common::Result;

struct InspectReport {
  std::filesystem::path image;
  std::string format;                      // qemu-img's format of the image
  nlohmann::json build;                    // /etc/binder-image/build.json, null if absent
  std::string k3s_version;                 // from build.json ("" if none)
  bool k3s_binary = false;                 // /usr/local/bin/k3s is a file
  std::vector<std::string> enabled_units;  // /etc/systemd/system/*.wants/* names
  nlohmann::json charts;                   // /etc/binder-image/charts.json, null if absent
  nlohmann::json k3s_upgrade;              // build.json's k3s_upgrade (controller, Plan), null if none
  std::vector<layers::steps::CheckResult> checks;
  bool ok() const;  // every check passed
};

// Errc::not_found / external_tool naming the image if it can't be opened.
Result<InspectReport> inspect_image(const std::filesystem::path& image, base::AccelMode accel);

std::string format_report(const InspectReport& report);
nlohmann::json report_json(const InspectReport& report);

}  // namespace binder::pipeline
