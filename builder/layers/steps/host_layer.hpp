// Layers without an appliance launch: a tree of files plus optional edits (the system layer's
// hygiene, HostLayerOptions) is written on the host: the parent chain is read out as a sparse raw disk
// (qemu-img convert), the tree is written into its root ext4 filesystem with libextfs (image/ext4.hpp),
// e2fsck checks the result, and exactly the byte ranges libext2fs wrote are copied into a new qcow2 overlay
// on the parent (qemu-io), which `qemu-img compare` then proves equal to the edited raw disk. About 5 s where
// an appliance launch costs 20-30 s under TCG.
//
// Errc::precondition when this parent can't be done on the host (no ext2/3/4 root filesystem
// found by label or os-release, a journal to replay, qemu-io missing): the caller falls back to
// an appliance session. Any other error is a real failure.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "image/archive.hpp"
#include "image/ext4.hpp"
#include "layers/layer_step.hpp"

namespace binder::layers::steps {

struct HostLayerReport {
  std::string root;          // "partition 3 (label 'root') at offset 69206016"
  std::uint64_t ranges = 0;  // byte ranges copied into the overlay
  std::uint64_t bytes = 0;   // bytes copied
  std::string dpkg_status;   // /var/lib/dpkg/status of the result ("" if none)
  std::string os_release;    // /etc/os-release (or /usr/lib/os-release) of the result
};

struct HostLayerOptions {
  // The layer may not grow the root filesystem: Errc::precondition (appliance fallback) unless
  // the root filesystem already reaches the end of the disk.
  bool need_full_disk = false;
  // Run on the writable filesystem before / after the tree is written (time = mtime).
  std::function<Result<void>(image::Ext4Fs&)> before;
  std::function<Result<void>(image::Ext4Fs&)> after;
  // Run on the written filesystem, reopened read-only, after the tree was read back.
  std::function<Result<void>(const image::Ext4Fs&)> verify;
};

// Whether the host tools are here (qemu-io, qemu-img, sfdisk) and BINDER_IMAGE_HOST_LAYERS is not
// "0" (the switch that forces the appliance path); false means every layer needs a launch.
bool host_layers_available();

Result<HostLayerReport> write_layer_on_host(const stdfs::path& parent, const stdfs::path& out,
                                            const image::TarBuilder& tree, const BuildEnv& env,
                                            std::int64_t mtime, const HostLayerOptions& options = {});

}  // namespace binder::layers::steps
