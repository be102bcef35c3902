// Tar containers for disk images (libarchive): members written in the exact order given (the OVA
// needs .ovf, .vmdk, .mf; GCP exactly disk.raw), in ustar or GNU (oldgnu magic "ustar  \0")
// format, optionally gzip'd without a gzip timestamp, owners 0/0 without names, one fixed mtime,
// so equal inputs give equal bytes. Data is streamed from host files; holes of sparse files
// (SEEK_HOLE) are fed as zeros without reading them. Non-logging.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace binder::exporter::tar {

using common::Result;

enum class Format { ustar, oldgnu };

struct Member {
  std::string name;              // stored name, e.g. "disk.raw"
  std::filesystem::path source;  // regular file on the host
};

struct WriteOptions {
  Format format = Format::ustar;
  bool gzip = false;
  std::int64_t mtime = 0;
};

// Writes `members` to `dst` (created/truncated; not atomic: pass a staging path). Errors name the
// member and libarchive's message (e.g. ustar's 8 GiB member limit).
Result<void> write(const std::filesystem::path& dst, const std::vector<Member>& members,
                   const WriteOptions& options);

struct MemberInfo {
  std::string name;
  std::uint64_t size = 0;
  bool regular = false;
  std::int64_t mtime = 0;
  std::int64_t uid = -1, gid = -1;
  std::string sha256;  // of the member's data (when hashing was asked for)
  std::string data;    // the member's data if at most `keep_data` bytes
};

struct Listing {
  std::vector<MemberInfo> members;   // in archive order
  std::string format_name;           // libarchive's name of the first header, e.g. "GNU tar format"
  int format_code = 0;               // archive_format() of the first header
  std::vector<std::string> filters;  // e.g. {"gzip"}; empty for a plain tar
  std::string magic;                 // bytes 257..264 of the first header block ("ustar\0" "00" or
                                     // "ustar  \0" for GNU/oldgnu)
};

// Reads `path` back (any filter libarchive knows), hashing every member (SHA-256) if `hash`.
Result<Listing> read(const std::filesystem::path& path, bool hash, std::uint64_t keep_data = 0);

}  // namespace binder::exporter::tar
