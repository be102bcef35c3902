// The host-side file tree of the system layer, built from the profile alone (plus the verified
// k3s files): what goes into the image is decided here, uploaded as one tar by system_step.cpp.
#pragma once

#include "config/profile.hpp"
#include "image/archive.hpp"
#include "layers/layer_step.hpp"

namespace binder::layers::steps {

// Where k3s imports airgap image tarballs and pulls `.txt` image lists from when it starts.
inline constexpr std::string_view k_k3s_images_dir = "var/lib/rancher/k3s/agent/images";
// k3s's import cache in that directory, baked empty (opts in to skipping unchanged archives).
inline constexpr std::string_view k_k3s_import_cache = ".cache.json";

// k3s (binary + kubectl/crictl/ctr links, airgap images, image lists, an empty import cache,
// k3s.service not enabled, traefik.yaml.skip), /etc/sysctl.d/60-binder.conf, cloud-init
// datasource_list, timesyncd NTP. Errors: an image list that is unreadable or not one image
// reference a line (Errc::invalid_config naming file:line and the profile line).
Result<image::TarBuilder> system_tree(const config::Profile& profile, const ResolvedInputs& inputs);

// The text of a `k3s.image_lists` file (`loc`: where the profile names it), checked: not empty,
// every line an image reference.
Result<std::string> read_image_list(const stdfs::path& path, const common::SourceLoc& loc);

// The k3s server unit as the k3s installer writes it (config comes from
// /etc/rancher/k3s/config.yaml, written at first boot).
std::string k3s_unit();

}  // namespace binder::layers::steps
