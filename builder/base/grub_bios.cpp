// The two writes grub-bios-setup would do for a core.img embedded in a BIOS boot partition.
// Offsets (GRUB 2.06 include/grub/i386/pc/boot.h): BPB 0x03..0x5a, kernel sector 0x5c (u64 LE),
// drive check 0x66 (a 2-byte jmp), NT magic + partition table 0x1b8..0x1fe; a blocklist entry is
// 12 bytes at the end of diskboot's sector, loading at segment 0x820 (0x800 + one sector).
#include "base/grub_bios.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fs.hpp"

namespace binder::base {

namespace {

using common::Errc;
using common::fail;

constexpr std::size_t k_bpb_start = 0x03;
constexpr std::size_t k_bpb_end = 0x5a;
constexpr std::size_t k_kernel_sector = 0x5c;
constexpr std::size_t k_drive_check = 0x66;
constexpr std::size_t k_nt_magic = 0x1b8;
constexpr std::size_t k_part_end = 0x1fe;
constexpr std::size_t k_list_size = 12;
constexpr std::uint16_t k_first_segment = 0x820;
constexpr std::size_t k_sector_bytes = 512;

void put_le(std::string& buf, std::size_t at, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    buf[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

Result<void> pwrite_all(int fd, const std::string& data, std::uint64_t offset,
                        const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      return fail(Errc::io, "writing '{}' at offset {}: {}", path.string(), offset + done,
                  std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

Result<std::string> patch_boot_sector(std::string boot_img, const std::string& mbr, std::uint64_t core_lba) {
  if (boot_img.size() != k_sector_bytes || mbr.size() != k_sector_bytes) {
    return fail(Errc::invalid_config, "boot.img and the MBR must be 512 bytes (got {} and {})",
                boot_img.size(), mbr.size());
  }
  std::memcpy(boot_img.data() + k_bpb_start, mbr.data() + k_bpb_start, k_bpb_end - k_bpb_start);
  std::memcpy(boot_img.data() + k_nt_magic, mbr.data() + k_nt_magic, k_part_end - k_nt_magic);
  put_le(boot_img, k_kernel_sector, core_lba, 8);
  boot_img[k_drive_check] = static_cast<char>(0x90);
  boot_img[k_drive_check + 1] = static_cast<char>(0x90);
  return boot_img;
}

Result<std::string> patch_core_image(std::string core_img, std::uint64_t core_lba, std::uint64_t max_bytes) {
  std::uint64_t sectors = (core_img.size() + k_sector_bytes - 1) / k_sector_bytes;
  if (sectors < 2) {
    return fail(Errc::precondition, "core.img is only {} bytes: not a GRUB i386-pc image", core_img.size());
  }
  if (sectors * k_sector_bytes > max_bytes) {
    return fail(Errc::precondition, "core.img ({} bytes) does not fit in the BIOS boot partition ({} bytes)",
                core_img.size(), max_bytes);
  }
  core_img.resize(sectors * k_sector_bytes, '\0');
  std::size_t first = k_sector_bytes - k_list_size;
  put_le(core_img, first, core_lba + 1, 8);
  put_le(core_img, first + 8, sectors - 1, 2);
  put_le(core_img, first + 10, k_first_segment, 2);
  // The entry before it terminates the list.
  put_le(core_img, first - k_list_size, 0, 8);
  put_le(core_img, first - k_list_size + 8, 0, 2);
  put_le(core_img, first - k_list_size + 10, 0, 2);
  return core_img;
}

Result<void> install_grub_bios(const std::filesystem::path& disk, const std::filesystem::path& boot_img,
                               const std::filesystem::path& core_img, std::uint64_t core_lba,
                               std::uint64_t max_bytes) {
  TRY_ASSIGN(std::string boot, common::fs::read_file(boot_img));
  TRY_ASSIGN(std::string core, common::fs::read_file(core_img));
  int fd = ::open(disk.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return fail(Errc::io, "opening '{}': {}", disk.string(), std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::string mbr(k_sector_bytes, '\0');
  if (::pread(fd, mbr.data(), mbr.size(), 0) != static_cast<ssize_t>(mbr.size())) {
    return fail(Errc::io, "reading the MBR of '{}'", disk.string());
  }
  TRY_ASSIGN(std::string sector0, patch_boot_sector(std::move(boot), mbr, core_lba));
  TRY_ASSIGN(std::string patched_core, patch_core_image(std::move(core), core_lba, max_bytes));
  TRY(pwrite_all(fd, patched_core, core_lba * k_sector_bytes, disk));
  TRY(pwrite_all(fd, sector0, 0, disk));
  if (::fsync(fd) != 0) {
    return fail(Errc::io, "fsync '{}': {}", disk.string(), std::strerror(errno));
  }
  return {};
}

}  // namespace binder::base
