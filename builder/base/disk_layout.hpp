// The partition layout of disks assembled from a rootfs tarball, in one place: a GPT with
//   1  BIOS boot  1 MiB at 1 MiB    (GRUB's i386-pc core.img, written raw)
//   2  ESP       64 MiB at 2 MiB    (FAT, label "ESP", EFI/BOOT/BOOTX64.EFI)
//   3  root      the rest at 66 MiB (ext4, label "root"; type: Linux root x86-64)
// The rootfs tarball's /etc/fstab refers to LABEL=root and LABEL=ESP (ci/make-test-rootfs).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace binder::base {

using common::Result;

constexpr std::uint64_t k_sector = 512;
constexpr std::uint64_t k_mib = 1024 * 1024;
constexpr const char* k_root_label = "root";
constexpr const char* k_esp_label = "ESP";

struct Extent {
  std::uint64_t offset = 0;  // bytes from the start of the disk
  std::uint64_t size = 0;    // bytes
  std::uint64_t first_lba() const { return offset / k_sector; }
  std::uint64_t sectors() const { return size / k_sector; }
};

struct DiskLayout {
  std::uint64_t disk_size = 0;  // bytes, a whole number of MiB
  Extent bios_boot;
  Extent esp;
  Extent root;
};

// The layout for a disk of `disk_size` bytes (rounded up to a whole MiB). The root partition ends
// where the backup GPT begins, rounded down to 4 KiB. Errc::invalid_config if the disk is smaller
// than 130 MiB.
Result<DiskLayout> make_layout(std::uint64_t disk_size);

// The sfdisk script writing `layout` (label gpt, explicit starts and sizes, partition names).
// With a non-empty `id_seed` the disk and partition GUIDs are derived from it (derived_guid),
// so equal inputs give an equal partition table; else sfdisk picks random ones.
std::string sfdisk_script(const DiskLayout& layout, const std::string& id_seed = "");

// A GUID/UUID-shaped id ("8-4-4-4-12", version 4 and variant bits set) from sha256(seed:name).
std::string derived_guid(const std::string& seed, std::string_view name);

}  // namespace binder::base
