// make_layout: fixed offsets for the small partitions, everything else for the root filesystem.
// The root's size is computed here (not read back from sfdisk) so mke2fs and sfdisk agree by
// construction; the 4 KiB rounding keeps the ext4 block count whole.
#include "base/disk_layout.hpp"

#include <fmt/format.h>

#include "common/hash.hpp"

namespace binder::base {

namespace {
constexpr std::uint64_t k_gpt_backup_bytes = 33 * k_sector;  // backup entries + header
constexpr const char* k_type_bios_boot = "21686148-6449-6E6F-744E-656564454649";
constexpr const char* k_type_esp = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
constexpr const char* k_type_root_x86_64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
}  // namespace

Result<DiskLayout> make_layout(std::uint64_t disk_size) {
  DiskLayout l;
  l.disk_size = (disk_size + k_mib - 1) / k_mib * k_mib;
  l.bios_boot = {1 * k_mib, 1 * k_mib};
  l.esp = {2 * k_mib, 64 * k_mib};
  l.root.offset = 66 * k_mib;
  if (l.disk_size < 130 * k_mib) {
    return common::fail(common::Errc::invalid_config,
                        "disk size {} bytes is too small for a bootable disk (at least 130 MiB)", disk_size);
  }
  l.root.size = (l.disk_size - k_gpt_backup_bytes - l.root.offset) / 4096 * 4096;
  return l;
}

std::string derived_guid(const std::string& seed, std::string_view name) {
  std::string h = common::hash::sha256_hex(seed + ":" + std::string(name));
  h[12] = '4';                                                  // version 4
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];  // RFC 4122 variant
  return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4), h.substr(16, 4),
                     h.substr(20, 12));
}

std::string sfdisk_script(const DiskLayout& l, const std::string& id_seed) {
  auto line = [&](const Extent& e, const char* type, const char* name) {
    std::string uuid = id_seed.empty() ? "" : ", uuid=" + derived_guid(id_seed, name);
    return fmt::format("start={}, size={}, type={}, name=\"{}\"{}\n", e.first_lba(), e.sectors(), type, name,
                       uuid);
  };
  std::string label_id = id_seed.empty() ? "" : "label-id: " + derived_guid(id_seed, "disk") + "\n";
  return "label: gpt\n" + label_id + "unit: sectors\nfirst-lba: 2048\n" +
         line(l.bios_boot, k_type_bios_boot, "bios-boot") + line(l.esp, k_type_esp, "esp") +
         line(l.root, k_type_root_x86_64, "root");
}

}  // namespace binder::base
