// File-only layers without an appliance launch. A layer that only adds files (no commands) is
// written on the host: the parent chain is read out as a sparse raw disk (qemu-img convert), the
// tree is written into its root ext4 filesystem with libextfs (image/ext4.hpp), e2fsck checks the
// result, and exactly the byte ranges libext2fs wrote are copied into a new qcow2 overlay on the
// parent (qemu-io), which `qemu-img compare` then proves equal to the edited raw disk. About 5 s
// where an appliance launch costs 20-30 s under TCG.
//
// Errc::precondition when this parent can't be done on the host (no ext2/3/4 root filesystem
// found by label or os-release, a journal to replay, qemu-io missing): the caller falls back to
// an appliance session. Any other error is a real failure.
#pragma once

#include <cstdint>
#include <string>

#include "image/archive.hpp"
#include "layers/layer_step.hpp"

namespace binder::layers::steps {

struct HostLayerReport {
  std::string root;            // "partition 3 (label 'root') at offset 69206016"
  std::uint64_t ranges = 0;    // byte ranges copied into the overlay
  std::uint64_t bytes = 0;     // bytes copied
  std::string dpkg_status;     // /var/lib/dpkg/status of the result ("" if none)
  std::string os_release;      // /etc/os-release (or /usr/lib/os-release) of the result
};

// Whether the host tools are here (qemu-io, qemu-img, sfdisk) and BINDER_IMAGE_HOST_LAYERS is not
// "0" (the switch that forces the appliance path); false means every layer needs a launch.
bool host_layers_available();

Result<HostLayerReport> write_layer_on_host(const stdfs::path& parent, const stdfs::path& out,
                                            const image::TarBuilder& tree, const BuildEnv& env,
                                            std::int64_t mtime);

}  // namespace binder::layers::steps
