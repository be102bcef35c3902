// Adapter over the qemu-img tool: overlays with relative backing names and explicit backing format
// (qemu-img has required -F with -b since 497a30db), conversion with compression, info as JSON,
// check and resize. Non-logging; every failure is Errc::external_tool quoting qemu-img's stderr.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace binder::image {

using common::Result;

enum class Compression { none, zlib, zstd };

struct ImageInfo {
  std::string format;                           // "qcow2", "raw", ...
  std::uint64_t virtual_size = 0;               // bytes
  std::uint64_t actual_size = 0;                // bytes on the host
  std::optional<std::string> backing_filename;  // as stored (may be relative)
  std::optional<std::string> backing_format;
  std::string json;  // qemu-img's full output
};

// Creates `overlay` (qcow2) backed by `parent` (qcow2), stored as a name relative to the
// overlay's directory so the cache directory can move. `size` grows the virtual disk (nullopt:
// the parent's size). The overlay is created under its final name: callers pass a temp name.
Result<void> create_overlay(const std::filesystem::path& overlay, const std::filesystem::path& parent,
                            std::optional<std::uint64_t> size = std::nullopt);

struct ConvertOptions {
  std::string output_format = "qcow2";          // -O
  Compression compression = Compression::none;  // qcow2 only: -c + compression_type
  std::vector<std::string> options;             // extra -o key=value (e.g. subformat=streamOptimized)
  std::string input_format = "qcow2";           // -f (always explicit)
};

// Flattens `src` (following its backing chain) into a standalone image `dst`. Writes straight
// to `dst`: callers pass a temp name and rename.
Result<void> convert(const std::filesystem::path& src, const std::filesystem::path& dst,
                     const ConvertOptions& options = {});

// `qemu-img info --output=json` (format probed unless `format` is given). A missing file is
// Errc::not_found; an unreadable/corrupt image is Errc::external_tool naming the file.
Result<ImageInfo> info(const std::filesystem::path& path, std::optional<std::string> format = std::nullopt);

// `qemu-img check`: Ok for a clean image (leaked clusters are allowed); Errc::corrupt_state if
// qemu-img reports corruption; formats without check support (raw) pass.
Result<void> check(const std::filesystem::path& path, const std::string& format);

// `qemu-img resize -f FORMAT path size` (grow only in practice).
Result<void> resize(const std::filesystem::path& path, const std::string& format, std::uint64_t size);

}  // namespace binder::image
