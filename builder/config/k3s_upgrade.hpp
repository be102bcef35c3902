// The effective k3s.upgrade inputs: the system-upgrade-controller release files (URL and pinned
// sha256, defaults following controller_version) and the Plan text. Shared by resolve_inputs
// (downloads), the system layer (files) and build.json/inspect.
#pragma once

#include <string>

#include "common/result.hpp"
#include "config/profile.hpp"

namespace binder::config {

// The release the defaults pin (../shared/reference/mirror/system-upgrade-controller/v0.20.1).
inline constexpr std::string_view k_suc_version = "v0.20.1";
inline constexpr std::string_view k_suc_release =
    "https://github.com/rancher/system-upgrade-controller/releases/download/";
// mybinder's Plan channel (config/k3s/k3s-upgrade-plan.yaml).
inline constexpr std::string_view k_k3s_stable_channel = "https://update.k3s.io/v1-release/channels/stable";

// Where the files go, in the order k3s's deploy controller should meet them (it applies the files
// of the manifests dir in name order and retries failures).
inline constexpr std::string_view k_suc_dir = "var/lib/rancher/k3s/server/manifests";
inline constexpr std::string_view k_suc_crd_file = "system-upgrade-00-crd.yaml";
inline constexpr std::string_view k_suc_controller_file = "system-upgrade-10-controller.yaml";
inline constexpr std::string_view k_suc_plan_file = "system-upgrade-20-plan.yaml";

struct UpgradeDownload {
  std::string url;
  std::string sha256;
  std::string name;  // "system-upgrade-controller.yaml", "crd.yaml"
};

// controller_url/crd_url or the release URL of controller_version; sha256 as set, else the pin
// for k_suc_version. Errc::invalid_config naming the key when a non-default version has no sha256.
common::Result<UpgradeDownload> upgrade_controller_download(const K3sUpgrade& u);
common::Result<UpgradeDownload> upgrade_crd_download(const K3sUpgrade& u);

// mybinder's Plan (byte for byte for the default channel), with `channel:` replaced by the
// profile's channel URL, or by `version: <v>` when the channel is a pinned k3s version.
std::string upgrade_plan_yaml(const K3sUpgrade& u);

}  // namespace binder::config
