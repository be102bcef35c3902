// The host-side file tree of the system layer, built from the profile alone (plus the verified
// k3s files): what goes into the image is decided here, uploaded as one tar by system_step.cpp.
#pragma once

#include "config/profile.hpp"
#include "image/archive.hpp"
#include "layers/layer_step.hpp"

namespace binder::layers::steps {

// k3s (binary + kubectl/crictl/ctr links, airgap images, k3s.service not enabled,
// traefik.yaml.skip), /etc/sysctl.d/60-binder.conf, cloud-init datasource_list, timesyncd NTP.
Result<image::TarBuilder> system_tree(const config::Profile& profile, const ResolvedInputs& inputs);

// The k3s server unit as the k3s installer writes it (config comes from
// /etc/rancher/k3s/config.yaml, written at first boot).
std::string k3s_unit();

}  // namespace binder::layers::steps
