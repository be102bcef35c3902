// binder-test-cloudimg-boot: the boot pieces of ci/make-test-cloudimg's Ubuntu-shaped disk, made by
// the same code binder-image assembles rootfs disks with (base/grub_images, base/grub_bios), with
// GRUB reading its grub.cfg from the ext4 filesystem labelled BOOT at /grub (Ubuntu noble keeps
// /boot on partition 16):
//   - core.img into the BIOS boot partition and the patched boot sector (sector 0);
//   - a FAT ESP labelled UEFI with EFI/BOOT/BOOTX64.EFI, written at the ESP's offset.
// Usage: binder-test-cloudimg-boot RAW_DISK BIOS_LBA BIOS_BYTES ESP_OFFSET ESP_BYTES MTIME SERIAL
// Exit 0 on success; 1 with the error on stderr.
#include <cstdio>
#include <fstream>
#include <string>

#include "base/grub_bios.hpp"
#include "base/grub_images.hpp"
#include "common/fs.hpp"

using namespace binder;
namespace stdfs = std::filesystem;

namespace {

common::Result<void> run(char** argv) {
  stdfs::path disk = argv[1];
  std::uint64_t bios_lba = std::stoull(argv[2]);
  std::uint64_t bios_bytes = std::stoull(argv[3]);
  std::uint64_t esp_offset = std::stoull(argv[4]);
  std::uint64_t esp_bytes = std::stoull(argv[5]);
  std::int64_t mtime = std::stoll(argv[6]);
  std::string serial = argv[7];
  TRY_ASSIGN(common::fs::TempDir work, common::fs::TempDir::create("cloudimg-boot"));
  base::GrubConfigAt at{"BOOT", "/grub"};
  auto core = work.path() / "core.img";
  auto efi = work.path() / "BOOTX64.EFI";
  auto esp = work.path() / "esp.img";
  TRY(base::make_bios_core_image(core, at));
  TRY(base::install_grub_bios(disk, "/usr/lib/grub/i386-pc/boot.img", core, bios_lba, bios_bytes));
  TRY(base::make_efi_image(efi, at));
  TRY(base::make_esp_image(esp, esp_bytes, efi, mtime, serial, "UEFI"));
  TRY_ASSIGN(std::string bytes, common::fs::read_file(esp));
  std::fstream out(disk, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(static_cast<std::streamoff>(esp_offset));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) {
    return common::fail(common::Errc::io, "writing the ESP into '{}'", disk.string());
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr,
                 "usage: binder-test-cloudimg-boot RAW_DISK BIOS_LBA BIOS_BYTES ESP_OFFSET ESP_BYTES "
                 "MTIME SERIAL\n");
    return 2;
  }
  auto r = run(argv);
  if (!r) {
    std::fprintf(stderr, "binder-test-cloudimg-boot: %s\n", r.error().to_string().c_str());
    return 1;
  }
  return 0;
}
