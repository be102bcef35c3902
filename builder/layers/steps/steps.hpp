// The layer steps of an image, bottom to top. Each is a LayerStep (layers/layer_step.hpp):
//   base    the base disk: a verified cloud image converted to qcow2 and grown to disk.size, or a
//           rootfs tarball assembled into a bootable GPT disk (base/assemble.hpp). No appliance.
//   system  k3s (binary, links, airgap images, unit not enabled, traefik.yaml.skip), sysctls,
//           cloud-init datasources, NTP; required packages checked; hygiene and the image checks.
//           Written on the host (host_layer.hpp, host_hygiene) when the root filesystem already
//           fills the disk (a rootfs base); else one libguestfs session that also grows the root
//           partition and filesystem (a cloud image), runs the hygiene script and sets the times
//           of everything it changed to SOURCE_DATE_EPOCH.
//   charts  file-only, written on the host (host_layer.hpp): the packaged mybinder and
//           cert-manager charts, their CRDs, the non-secret mybinder.org-deploy files firstboot
//           needs and /etc/binder-image/charts.json (charts/bake.hpp, the charts contract).
//           Between system and final, so an overlay edit does not repackage the charts.
//   final   file-only, written on the host (host_layer.hpp): overlays, binder-firstboot +
//           enabled unit, baked member.yaml 0600, /etc/binder-image/build.json; its tree is
//           checked for hygiene. Falls back to one appliance session (upload, hygiene, checks)
//           when the root filesystem can't be written on the host. Keeps the image's dpkg
//           status as a sidecar for the SBOM.
// So a cold build from a rootfs launches no appliance, from a cloud image one; a rebuild after an
// overlay change none.
#pragma once

#include <memory>

#include "config/profile.hpp"
#include "layers/layer_step.hpp"

namespace binder::layers::steps {

// The steps reference `profile` and `inputs`, which must outlive them.
std::unique_ptr<LayerStep> make_base_step(const config::Profile& profile, const ResolvedInputs& inputs);
std::unique_ptr<LayerStep> make_system_step(const config::Profile& profile, const ResolvedInputs& inputs);
std::unique_ptr<LayerStep> make_charts_step(const config::Profile& profile, const ResolvedInputs& inputs);
std::unique_ptr<LayerStep> make_final_step(const config::Profile& profile, const ResolvedInputs& inputs);

}  // namespace binder::layers::steps
