// Internal to the settings table: each settings_*.cpp file adds one group of entries, in
// documentation order. settings.cpp concatenates them once.
#pragma once

#include <vector>

#include "config/parse_ctx.hpp"
#include "config/settings.hpp"

namespace binder::config::detail {

void add_general_settings(std::vector<SettingSpec>& out);      // name, description, extends, base, disk
void add_k3s_settings(std::vector<SettingSpec>& out);          // k3s.*
void add_k3s_upgrade_settings(std::vector<SettingSpec>& out);  // k3s.upgrade.*
void add_system_settings(std::vector<SettingSpec>& out);       // sysctls, kubelet, cloud_init, ntp
void add_charts_settings(std::vector<SettingSpec>& out);       // charts.*
void add_final_settings(std::vector<SettingSpec>& out);        // overlays .. outputs

// Checks a url/file + checksum mapping (`node` present): exactly one of url and file, and
// (when `checksum_required`) sha256 or sha256sums; errors at the mapping.
void check_artifact(const Node& node, ParseCtx& c, const Artifact& a, bool checksum_required);

}  // namespace binder::config::detail
