// The image's defaults for the node, baked by the builder: the profile's kubelet.* settings in
// /etc/binder-image/build.json ("kubelet": {"max_pods_per_gib", "image_gc_high", "image_gc_low"};
// builder/layers/steps/final_files.cpp writes it). They feed the machine sizing (sizing.hpp);
// the metadata's node.max_pods_per_gib still overrides max_pods_per_gib.
#pragma once

#include <filesystem>
#include <string_view>

#include "firstboot/env.hpp"

namespace binder::firstboot {

inline constexpr std::string_view k_build_json_path = "/etc/binder-image/build.json";

// Reads <root>/etc/binder-image/build.json. No file, or no "kubelet" section (older images): the
// built-in defaults. A file that is not JSON or a kubelet value out of range: Errc::invalid_config
// naming the file and the key (exit 2).
Result<KubeletDefaults> read_image_kubelet(const std::filesystem::path& root);

}  // namespace binder::firstboot
