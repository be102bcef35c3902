// The host-side file tree of the final layer: overlays (in profile order, later wins), the
// binder-firstboot binary and its unit (enabled by a multi-user.target.wants symlink), baked
// member metadata (0600) and /etc/binder-image/build.json.
#pragma once

#include <string>

#include "config/profile.hpp"
#include "image/archive.hpp"
#include "layers/layer_step.hpp"

namespace binder::layers::steps {

inline constexpr const char* k_build_json_path = "etc/binder-image/build.json";

// The unit used when firstboot/units/binder-firstboot.service is not available.
std::string default_firstboot_unit();

// build.json, format binder-build-v1: {"format","profile","description","builder_version",
// "k3s_version","source_date_epoch","inputs":{name:{"file","sha256"}},"settings":{kubelet,...}}.
// Deterministic: no build time, no host paths.
std::string build_json(const config::Profile& profile, const ResolvedInputs& inputs);

Result<image::TarBuilder> final_tree(const config::Profile& profile, const ResolvedInputs& inputs);

}  // namespace binder::layers::steps
