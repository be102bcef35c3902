// Deterministic tar archives with libarchive: a file tree is prepared on the host (in-memory
// files, host files streamed at write time, host directory trees) and uploaded into the guest in
// one tar_in. Entries are written sorted by path, owners numeric (uid/gid 0 unless told, no
// names), every mtime the given time (the build's common::BuildDate::file_time()), so equal inputs give equal
// bytes. Parent directories are NOT emitted unless added explicitly: extracting "lib/" over Debian's /lib ->
// usr/lib symlink would replace the symlink. Non-logging.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/build_date.hpp"
#include "common/result.hpp"

namespace binder::image {

using common::Result;

// 2023-11-14T22:13:20Z: the build's file time when no SOURCE_DATE_EPOCH is given.
inline constexpr std::int64_t k_default_mtime = common::k_default_file_time;

struct TarEntry {
  enum class Type { file, dir, symlink };
  Type type = Type::file;
  std::string path;    // relative, no leading '/', e.g. "etc/sysctl.d/60-binder.conf"
  mode_t mode = 0644;  // permission bits only
  uid_t uid = 0;
  gid_t gid = 0;
  std::string data;                 // file content (when host_path is empty)
  std::filesystem::path host_path;  // file content streamed from here at write time
  std::uint64_t size = 0;           // size of host_path (recorded when added)
  std::string link_target;          // symlink target
};

class TarBuilder {
 public:
  // Adding a path twice replaces the earlier entry (later wins, like overlay order).
  void add_file(std::string path, std::string data, mode_t mode = 0644, uid_t uid = 0, gid_t gid = 0);
  // Errc::not_found / io naming the host file if it can't be stat'ed.
  Result<void> add_host_file(std::string path, const std::filesystem::path& host, mode_t mode, uid_t uid = 0,
                             gid_t gid = 0);
  void add_dir(std::string path, mode_t mode = 0755, uid_t uid = 0, gid_t gid = 0);
  void add_symlink(std::string path, std::string target);
  // Adds every regular file and symlink under `host_dir` (sorted walk) at `prefix/<relative>`,
  // with the file's permission bits; directories only when their mode is not 0755. Other file
  // types are an Errc::invalid_config error naming the path.
  Result<void> add_tree(const std::filesystem::path& host_dir, const std::string& prefix = "");

  // Entries in archive order (sorted by path).
  std::vector<const TarEntry*> entries() const;
  bool empty() const { return m_entries.empty(); }

  // Writes an uncompressed pax tar to `out` (created/truncated; not atomic: pass a temp name).
  Result<void> write(const std::filesystem::path& out, std::int64_t mtime) const;

 private:
  std::map<std::string, TarEntry> m_entries;
};

// Reads back a tar file's entries (paths, types, modes, owners, sizes and, for files under
// `max_data` bytes, their data). For tests and verification.
Result<std::vector<TarEntry>> read_tar(const std::filesystem::path& path, std::uint64_t max_data = 1 << 20);

}  // namespace binder::image
