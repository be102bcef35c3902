// Filesystem helpers over std::filesystem's error_code overloads. Writes that must never be seen
// half-done go through write_file_atomic / AtomicFile: temp file in the same directory, fsync,
// rename, fsync of the directory. A test-only fault injector can make the Nth write fail, for
// crash/resume tests (LevelDB's fault_injection_test idea).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace binder::common::fs {

namespace stdfs = std::filesystem;

Result<std::string> read_file(const stdfs::path& path);
// Returns nullopt if the file does not exist.
Result<std::optional<std::string>> read_file_if_exists(const stdfs::path& path);

// Writes `content` to `path` atomically with `mode` (e.g. 0600 for secrets). Parent directories
// are created (0755). On failure the old file (if any) is untouched and no temp file is left.
Result<void> write_file_atomic(const stdfs::path& path, std::string_view content, mode_t mode = 0644);

// Appends `content` and fsyncs (journals). Creates the file with `mode` if missing.
Result<void> append_file_synced(const stdfs::path& path, std::string_view content, mode_t mode = 0600);

Result<void> fsync_dir(const stdfs::path& dir);
Result<void> make_directories(const stdfs::path& dir, mode_t mode = 0755);
Result<void> remove_tree(const stdfs::path& path);
Result<void> rename_path(const stdfs::path& from, const stdfs::path& to);
Result<std::uintmax_t> size_of(const stdfs::path& path);
// Reads `path` in chunks of up to `chunk` bytes, handing each to `sink` (which may fail and stop
// the read); returns the number of bytes read.
Result<std::uint64_t> read_chunks(const stdfs::path& path,
                                  const std::function<Result<void>(const char*, std::size_t)>& sink,
                                  std::size_t chunk = 1u << 20);

// A file written under "<path>.tmp-<pid>-<n>" and renamed onto `path` by commit(). Destroying it
// without commit() removes the temp file. Use for large outputs written by other tools too.
class AtomicFile {
 public:
  explicit AtomicFile(stdfs::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  AtomicFile(AtomicFile&&) noexcept;

  const stdfs::path& temp_path() const { return m_temp; }
  const stdfs::path& target() const { return m_target; }
  // fsyncs the temp file, renames it onto the target, fsyncs the directory.
  Result<void> commit();

 private:
  stdfs::path m_target;
  stdfs::path m_temp;
  bool m_committed = false;
};

// A directory removed (recursively) on destruction unless release()d.
class TempDir {
 public:
  // Creates a fresh directory under `parent` (default: $TMPDIR or /tmp) named prefix-XXXXXX.
  static Result<TempDir> create(std::string_view prefix, const stdfs::path& parent = {});
  TempDir(TempDir&&) noexcept;
  TempDir& operator=(TempDir&&) noexcept;
  ~TempDir();
  const stdfs::path& path() const { return m_path; }
  stdfs::path release();

 private:
  explicit TempDir(stdfs::path p) : m_path(std::move(p)) {}
  stdfs::path m_path;
};

// Test hook: the `n`th write operation from now on (1-based) fails with an io error, as if the
// machine lost power there; 0 disables. Counted operations: write_file_atomic,
// append_file_synced, and any caller of fault_point().
void inject_write_fault(int n);
// Returns an error if an injected fault fires here; `what` names the write for the message.
Result<void> fault_point(std::string_view what);
// Number of fault points passed since the last inject_write_fault() call.
int fault_points_passed();

}  // namespace binder::common::fs
