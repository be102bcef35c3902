// Host-side access to an ext2/3/4 filesystem inside a raw disk file, with libext2fs: no appliance
// launch, no root, no loop device. Used for file-only layers: a tree of files (image::TarBuilder)
// is written into the root filesystem the way `tar -x` at "/" would (files and symlinks replace
// what is there, directories are created or get the entry's mode/owner, missing parents are made
// 0755 root:root, intermediate symlinks such as /lib -> usr/lib are followed), with every
// timestamp set to one fixed time so equal inputs give equal bytes.
//
// Every byte range written to the disk file is recorded (dirty_ranges()), so the caller can copy
// exactly those ranges into a qcow2 overlay. The filesystem must be clean (no journal to replay,
// no errors recorded); anything libext2fs can't handle safely is refused with Errc::precondition
// so the caller can fall back to an appliance. Non-logging. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "image/archive.hpp"

namespace binder::image {

struct ByteRange {
  std::uint64_t offset = 0;  // in the disk file
  std::uint64_t length = 0;
};

struct Ext4Stat {
  enum class Type { file, dir, symlink, other };
  Type type = Type::other;
  mode_t mode = 0;  // permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
  std::string link_target;  // symlinks
};

class Ext4Fs {
 public:
  // Opens the filesystem that starts `offset` bytes into `disk` (a raw file). Errc::precondition
  // if there is no ext2/3/4 superblock there, the journal needs recovery, errors are recorded or
  // the filesystem uses a feature libext2fs can't write.
  static Result<Ext4Fs> open(const std::filesystem::path& disk, std::uint64_t offset, bool writable);

  Ext4Fs(Ext4Fs&&) noexcept;
  Ext4Fs& operator=(Ext4Fs&&) noexcept;
  Ext4Fs(const Ext4Fs&) = delete;
  Ext4Fs& operator=(const Ext4Fs&) = delete;
  // Closes without flushing if close() was not called (a failed write leaves the disk file in an
  // unknown state: callers throw it away).
  ~Ext4Fs();

  std::string label() const;

  // Writes every entry of `tree` (in archive order) with all inode times set to `time`.
  Result<void> apply(const TarBuilder& tree, std::int64_t time);

  // The time apply() and the edits below give what they create or change (default: the
  // apply() time, else SOURCE_DATE_EPOCH-like 1700000000).
  void set_time(std::int64_t time);
  std::int64_t time() const;

  // rm -f / rm -rf: removes `path` (a directory only with `recursive`, then with everything in
  // it); false if it did not exist. The final component is not followed.
  Result<bool> remove(const std::string& path, bool recursive);
  // `: > path` for an existing regular file (the final symlink is followed): size 0, blocks
  // freed, mode and owner kept. false if there is no such regular file.
  Result<bool> truncate(const std::string& path);
  // Names in directory `path` (symlinks followed), sorted; Errc::not_found if it is missing.
  Result<std::vector<std::string>> list(const std::string& path) const;
  // Paths matching the absolute `pattern`: '*', '?' and '[...]' within components (fnmatch
  // FNM_PERIOD, like the shell: a leading '.' is not matched by a wildcard), no '**'. Sorted by
  // component as list() is; a non-directory on the way matches nothing below it.
  Result<std::vector<std::string>> glob(const std::string& pattern) const;
  // Sets the access, change and creation times of every inode in use to the filesystem's time
  // (set_time), keeping modification times: `mke2fs -d` copies atime/ctime from the host files,
  // which are the unpack time, so a freshly made filesystem is not reproducible without this.
  Result<void> stamp_times();
  // Bytes the filesystem spans (block count x block size).
  std::uint64_t size_bytes() const;

  // lstat-like; nullopt if the path does not exist. Intermediate symlinks are followed.
  Result<std::optional<Ext4Stat>> stat(const std::string& path) const;
  // Content of a regular file (the final symlink is followed). Errc::not_found if missing.
  Result<std::string> read_file(const std::string& path, std::uint64_t max_bytes = 256u << 20) const;

  struct TreeEntry {
    std::string path;  // "/etc/motd" ("/" for the root)
    Ext4Stat stat;
    std::string sha256;  // regular files: of the content
  };
  // Every entry reachable from "/" without following symlinks, sorted by path, regular files
  // hashed. For comparing two images' file trees (reproducibility tests).
  Result<std::vector<TreeEntry>> list_tree() const;

  // Writes bitmaps, group descriptors and the superblock, then closes. Needed after apply().
  Result<void> close();

  // Byte ranges of the disk file written so far, sorted and merged.
  std::vector<ByteRange> dirty_ranges() const;

  struct Impl;

 private:
  explicit Ext4Fs(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace binder::image
