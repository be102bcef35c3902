// The GRUB pieces of a disk assembled from a rootfs, made on the host without grub-install:
// a BIOS core.img and a removable-path UEFI BOOTX64.EFI (both by grub-mkimage, every module they
// need built in, so nothing is loaded from the disk), each with an embedded config that finds the
// root filesystem by its label and hands over to the static /boot/grub/grub.cfg written there.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace binder::base {

using common::Result;

struct BootEntry {
  std::string kernel;      // path in the root filesystem, e.g. "/vmlinuz" or "/boot/vmlinuz-6.1.0-x"
  std::string initrd;      // e.g. "/initrd.img"
  std::string extra_args;  // appended to the kernel command line
};

// Finds the kernel and initrd in an unpacked root `tree`: the /vmlinuz and /initrd.img symlinks
// (kept current by Debian's kernel packages) when they resolve inside the tree, else the newest
// /boot/vmlinuz-<version> with its /boot/initrd.img-<version>. Errc::precondition naming what is
// missing otherwise.
Result<BootEntry> find_boot_entry(const std::filesystem::path& tree);

// The static /boot/grub/grub.cfg: serial + console terminals, one entry booting `entry` with
// root=LABEL=root and console=tty0 console=ttyS0,115200 (ttyS0 last: it becomes /dev/console, so
// systemd and cloud-init output reach the serial log).
std::string render_grub_cfg(const BootEntry& entry);

// Where the GRUB images look for grub.cfg: the filesystem labelled `label`, directory `dir` in it.
// Default: the assembled layout (root filesystem, /boot/grub). Ubuntu's cloud image layout keeps
// /boot on its own filesystem: {"BOOT", "/grub"} (ci/make-test-cloudimg).
struct GrubConfigAt {
  std::string label = "root";
  std::string dir = "/boot/grub";
};

// grub-mkimage -O i386-pc into `out` (the core.img for the BIOS boot partition).
Result<void> make_bios_core_image(const std::filesystem::path& out, const GrubConfigAt& at = {});
// grub-mkimage -O x86_64-efi into `out` (EFI/BOOT/BOOTX64.EFI).
Result<void> make_efi_image(const std::filesystem::path& out, const GrubConfigAt& at = {});

// A FAT image of `size` bytes labelled `label` (default ESP) holding EFI/BOOT/BOOTX64.EFI = `efi_binary`
// (mtools), entries dated `mtime` (SOURCE_DATE_EPOCH for mtools), volume serial `serial` (8 hex digits; "" =
// random).
Result<void> make_esp_image(const std::filesystem::path& out, std::uint64_t size,
                            const std::filesystem::path& efi_binary, std::int64_t mtime = 1700000000,
                            const std::string& serial = "", const std::string& label = "ESP");

}  // namespace binder::base
