// Assembling a root filesystem tarball (e.g. from mmdebstrap) into a bootable GPT disk, BIOS and
// UEFI, without libguestfs: every piece is made on the host with ordinary tools, which takes
// seconds where a libguestfs appliance under TCG takes minutes (shared/notes/
// test-base-image-facts.md). Layout: base/disk_layout.hpp. Boot: GRUB core.img in the BIOS boot
// partition + BOOTX64.EFI on the ESP, both reading a static /boot/grub/grub.cfg on the root.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace binder::base {

using common::Result;

// Bumped whenever the disks assemble_rootfs_disk makes change for the same inputs (layout, GRUB
// modules, grub.cfg): layer caches put it in their transcript.
constexpr int k_assemble_version = 1;

struct AssembleOptions {
  // Scratch space for the unpacked tree and the raw disk (about tarball's unpacked size + the
  // disk's used bytes); default $TMPDIR or /tmp.
  std::filesystem::path work_dir;
  std::string extra_kernel_args;           // appended to the kernel command line in grub.cfg
  std::chrono::seconds tool_timeout{900};  // per external tool (tar, mke2fs, qemu-img)
  // Time for what the assembly itself creates (grub.cfg and its new directories, the root
  // inode, lost+found), so equal inputs give an equal file tree; SOURCE_DATE_EPOCH in practice.
  std::int64_t mtime = 1700000000;
  // Seed for the disk's identifiers (GPT disk and partition GUIDs, ext4 UUID and directory hash
  // seed, FAT serial): equal seeds give byte-identical disks. Empty: random identifiers.
  std::string id_seed;
};

// Builds `out_qcow2` (a qcow2 of virtual size `size_bytes`, rounded up to a whole MiB) from
// `tarball` (any tar GNU tar can read; zstd/xz/gzip detected), by:
//   sfdisk GPT on a sparse raw file; tar -x into a temporary tree (under fakeroot when not root);
//   /boot/grub/grub.cfg for the kernel found in the tree; mke2fs -d for the ext4 root (label
//   "root") at its partition offset; mtools for the ESP; grub-mkimage + hand-installed boot
//   sectors for BIOS; qemu-img convert -O qcow2 into a temporary file renamed onto out_qcow2.
// On success out_qcow2 is complete; on failure it is untouched (no partial output) and the
// error names the tarball (Errc::invalid_config for a too-small size, Errc::precondition for a
// tree without a kernel/initrd or a missing tool, Errc::external_tool with the tool's stderr).
Result<void> assemble_rootfs_disk(const std::filesystem::path& tarball,
                                  const std::filesystem::path& out_qcow2, std::uint64_t size_bytes,
                                  const AssembleOptions& options = {});

}  // namespace binder::base
