// Chart archives in memory: reading a gzip tar (a GitHub source archive, a chart .tgz) into its
// files, reading the commit id git puts in the pax global header, and writing a deterministic
// chart .tgz (sorted files, no directory entries, owners 0, one fixed mtime, gzip without a
// timestamp) as `helm package` lays it out. Charts are small (kilobytes to a few MiB), so
// everything stays in memory. Non-logging.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace binder::charts {

using common::Result;

struct ArchiveFile {
  std::string path;  // relative, '/'-separated, no leading "./"
  std::string data;
  mode_t mode = 0644;
};

// The regular files of a tar.gz (directories skipped, symlinks refused), in archive order.
// `what` names the archive in errors ("mybinder.org-deploy archive '<url>'"). Errc::corrupt_state
// for bytes that are no gzip tar, or an entry type a chart must not hold.
Result<std::vector<ArchiveFile>> read_tgz(std::string_view bytes, std::string_view what);

// The commit id `git archive` writes into the pax global header ("comment=<40 hex>"), as
// `git get-tar-commit-id` reads it; "" when the archive has no such header.
Result<std::string> tar_commit_id(std::string_view tgz_bytes, std::string_view what);

// A deterministic gzip tar of `files` (sorted by path; duplicate paths are an error), every
// mtime `mtime`, uid/gid 0 with no names, modes as given (permission bits only).
Result<std::string> write_tgz(std::vector<ArchiveFile> files, std::int64_t mtime);

}  // namespace binder::charts
