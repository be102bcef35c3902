// Installing GRUB for BIOS boot on a GPT disk image by hand. grub-bios-setup refuses image files
// ("guessing the root device failed"), so this does its two writes directly:
//  - sector 0: boot.img's code with the disk's protective MBR partition table kept, patched with
//    the LBA of core.img (offset 0x5c) and the boot-drive check turned into NOPs (0x66), as
//    grub-bios-setup does for hard disks;
//  - the BIOS boot partition: core.img, whose first sector (diskboot.img) ends with a blocklist
//    {u64 start, u16 sectors, u16 segment} telling it where the rest of core.img is.
// Byte layouts from GRUB 2.06 include/grub/i386/pc/boot.h and util/setup.c.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace binder::base {

using common::Result;

// The new sector 0: boot.img (512 bytes) merged with `mbr` (the disk's current sector 0), with
// core.img's first sector at `core_lba`. Errc::invalid_config if either is not 512 bytes.
Result<std::string> patch_boot_sector(std::string boot_img, const std::string& mbr, std::uint64_t core_lba);

// core.img with its first blocklist pointing at the sectors after `core_lba`. Errc::precondition
// if core.img does not fit in `max_bytes` or is shorter than two sectors.
Result<std::string> patch_core_image(std::string core_img, std::uint64_t core_lba, std::uint64_t max_bytes);

// Reads boot.img, writes the patched sector 0 and core.img into the raw `disk` (core.img at
// `core_lba`, at most `max_bytes`).
Result<void> install_grub_bios(const std::filesystem::path& disk, const std::filesystem::path& boot_img,
                               const std::filesystem::path& core_img, std::uint64_t core_lba,
                               std::uint64_t max_bytes);

}  // namespace binder::base
