// Internal to the export module: one writer per output format. Each writes `dir/file_name` (dir is
// a private staging directory, so the final name can be used: qemu embeds it in the VMDK
// descriptor, and the OVA lists it), verifies what it wrote, and returns the path. Nothing here
// publishes; export.cpp renames verified files into place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "export/export.hpp"

namespace binder::exporter::detail {

struct Source {
  std::filesystem::path top;  // the qcow2 to export (backing chain allowed)
  std::uint64_t virtual_size = 0;
  std::filesystem::path raw;                         // flattened raw copy (when one was made), else empty
  std::optional<std::int64_t> epoch;                 // SOURCE_DATE_EPOCH; nullopt: not reproducible
  bool native_qcow2 = true;                          // ExportOptions::native_qcow2
  std::optional<std::filesystem::path> qcow2_cache;  // ExportOptions::cache_dir
  unsigned compress_threads = 0;                     // ExportOptions::compress_threads
};

using Path = std::filesystem::path;

// qcow2 with compression none|zstd|zlib; verified by qemu-img info (format, size, no backing,
// compression type) and check. zstd is written by write_qcow2_zstd (qcow2_zstd.hpp) when
// src.native_qcow2 and the chain allows it, else (and for none/zlib) by qemu-img convert.
Result<Path> write_qcow2(const Source& src, const std::string& compression, const Path& dir,
                         const std::string& file_name);

// raw (a hard link of src.raw when there is one), raw.xz, raw.zst or raw.gz (src.raw required);
// verified by size / by decompressing and counting bytes.
Result<Path> write_raw(const Source& src, const std::string& compression, const Path& dir,
                       const std::string& file_name);

// streamOptimized VMDK (lsilogic adapter type); CID pinned when src.epoch is set; verified by
// qemu-img info (format, size, create type) and check.
Result<Path> write_vmdk(const Source& src, const Path& dir, const std::string& file_name);

// Fixed VHD with force_size (virtual size exactly the disk size); footer pinned when src.epoch
// is set; footer verified.
Result<Path> write_vhd(const Source& src, const Path& dir, const std::string& file_name);

// OVA: ustar tar of <stem>.ovf, <stem>.vmdk, <stem>.mf (SHA256); read back and verified.
Result<Path> write_ova(const Source& src, const ExportOptions& options, const Path& dir,
                       const std::string& file_name);

// GCP: GNU (oldgnu) tar.gz holding exactly disk.raw (src.raw required); read back and verified.
Result<Path> write_gcp_tar(const Source& src, const Path& dir, const std::string& file_name);

// Verifiers, also used by the tests.
Result<void> verify_ova(const Path& ova, const std::string& stem, std::uint64_t virtual_size);
Result<void> verify_gcp_tar(const Path& tar_gz, std::uint64_t virtual_size);
// Bytes of the decompressed stream of a compressed file (xz, zstd, gzip: libarchive filters).
Result<std::uint64_t> decompressed_size(const Path& path);
// Sets the CID of a VMDK's embedded descriptor to `cid` (8 hex digits), whatever length the old one had.
Result<void> pin_vmdk_cid(const Path& vmdk, const std::string& cid);

}  // namespace binder::exporter::detail
