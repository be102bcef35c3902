// The VHD footer (Microsoft "Virtual Hard Disk Image Format Specification"): the last 512 bytes
// of a fixed VHD. We verify what Azure checks (cookie "conectix", disk type fixed, current size
// equals the virtual size, file size = virtual size + 512, valid checksum) and, for reproducible
// builds, pin the two fields qemu fills from the clock and the RNG (timestamp, unique id).
//
// Footer layout (big-endian): 0 cookie[8] "conectix", 8 features u32, 12 version u32 0x00010000,
// 16 data offset u64 (all 1s for fixed), 24 timestamp u32 (seconds since 2000-01-01 UTC),
// 28 creator app[4], 32 creator version u32, 36 creator host OS[4], 40 original size u64,
// 48 current size u64, 56 geometry u32, 60 disk type u32 (2 fixed, 3 dynamic, 4 differencing),
// 64 checksum u32 (one's complement of the byte sum of the footer without this field),
// 68 unique id[16], 84 saved state u8, 85 reserved.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/result.hpp"

namespace binder::exporter::vhd {

using common::Result;

inline constexpr std::int64_t k_vhd_epoch = 946684800;  // 2000-01-01T00:00:00Z

struct Footer {
  std::string cookie;
  std::uint32_t timestamp = 0;
  std::uint64_t original_size = 0;
  std::uint64_t current_size = 0;
  std::uint32_t disk_type = 0;
  std::uint32_t checksum = 0;
  std::uint32_t computed_checksum = 0;
  std::string unique_id_hex;
};

// Parses a 512-byte footer (no validation beyond the length).
Footer parse_footer(const unsigned char* bytes);
// Checksum of a 512-byte footer as the spec defines it (checksum field counted as 0).
std::uint32_t footer_checksum(const unsigned char* bytes);

// Reads the footer at file size - 512. Errc::io if unreadable, Errc::corrupt_state if the file
// is shorter than 512 bytes.
Result<Footer> read_footer(const std::filesystem::path& path);

// Ok if `path` is a valid fixed VHD of `virtual_size` bytes: cookie, disk type 2, current size
// == virtual_size, file size == virtual_size + 512, checksum valid. Otherwise
// Errc::corrupt_state naming the field, the expected and the found value.
Result<void> verify_fixed(const std::filesystem::path& path, std::uint64_t virtual_size);

// Rewrites the footer's timestamp (from `epoch`, clamped to the VHD epoch) and unique id (the
// first 16 bytes of sha256(`seed`), as an RFC 4122 version-4-shaped id), then the checksum.
// Fixed VHDs only carry the footer at the end (dynamic ones also at the start; not handled).
Result<void> pin_footer(const std::filesystem::path& path, std::int64_t epoch, const std::string& seed);

}  // namespace binder::exporter::vhd
