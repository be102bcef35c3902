// RAII adapter over libguestfs: one Guest = one appliance launch (~20 s under TCG), so callers do
// all of a layer's work in one Guest. Every libguestfs failure becomes a Result carrying
// libguestfs' own error text and the operation. Non-logging. Not thread-safe (one handle, one
// thread). libguestfs' `sh`/`command` hide a failing tool's stderr and run with a minimal PATH, so
// run() wraps the script itself: explicit PATH, stdout/stderr/exit captured through files.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

struct guestfs_h;

namespace binder::image {

using common::Result;

enum class Access { read_only, read_write };

struct Drive {
  std::filesystem::path path;
  std::string format = "qcow2";  // always explicit: never let libguestfs probe a format
  Access access = Access::read_write;
};

struct GuestOptions {
  // Environment for the appliance (base::guestfs_env: LIBGUESTFS_BACKEND_SETTINGS=force_tcg).
  // Applied with setenv() before the handle is created (process-wide, done before any thread).
  std::map<std::string, std::string> env;
  int memsize_mb = 0;  // 0 = libguestfs default
};

// Output of a command run inside the guest (chrooted into the mounted root).
struct GuestCommand {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class Guest {
 public:
  // Creates a handle, adds the drives (first = /dev/sda) and launches the appliance.
  // On failure: Errc::external_tool with libguestfs' message ("launching libguestfs: ...").
  static Result<Guest> launch(const std::vector<Drive>& drives, const GuestOptions& options = {});

  Guest(Guest&& other) noexcept;
  Guest& operator=(Guest&& other) noexcept;
  Guest(const Guest&) = delete;
  Guest& operator=(const Guest&) = delete;
  // Closes the handle (an unsynced read-write drive may lose writes: call shutdown()).
  ~Guest();

  // Launches performed by this process so far (for progress, tests and the benchmark).
  static int launch_count();

  // The root filesystem's device: by label ("root", "cloudimg-rootfs"), else by inspection.
  // Errc::not_found if no root filesystem can be identified.
  Result<std::string> root_device();
  // Mounts root_device() at "/" (read-only for Access::read_only).
  Result<void> mount_root(Access access);
  // Grows the root partition (the last partition on /dev/sda) and its ext4 filesystem to the end
  // of the disk: moves the backup GPT header, resizes the partition, e2fsck -f, resize2fs.
  // Must be called before mount_root(). Returns true if anything grew, false if already full.
  Result<bool> grow_root_to_disk();

  // Files (guest paths are absolute). Errors name the guest path.
  Result<void> upload(const std::filesystem::path& host, const std::string& guest_path);
  Result<void> write(const std::string& path, std::string_view content);
  Result<std::string> read(const std::string& path);
  Result<void> mkdir_p(const std::string& path);
  Result<void> chmod(const std::string& path, mode_t mode);
  Result<void> chown(const std::string& path, uid_t uid, gid_t gid);
  // atime and mtime of `path` (a directory or file; not through a final symlink's target for
  // directories) to `t` seconds since the epoch.
  Result<void> set_times(const std::string& path, std::int64_t t);
  Result<void> ln_sf(const std::string& target, const std::string& link);
  Result<void> rm_rf(const std::string& path);
  Result<void> truncate(const std::string& path);
  // Expands a glob in the guest; sorted paths, empty if nothing matches.
  Result<std::vector<std::string>> glob(const std::string& pattern);
  Result<bool> exists(const std::string& path);
  Result<bool> is_file(const std::string& path);
  Result<bool> is_dir(const std::string& path);
  Result<bool> is_symlink(const std::string& path);
  Result<std::string> readlink(const std::string& path);
  // Extracts an uncompressed host tar file into guest directory `dir` (numeric owners, modes as
  // in the archive).
  Result<void> tar_in(const std::filesystem::path& host_tar, const std::string& dir);

  // Runs `script` with /bin/sh inside the guest root (PATH=/usr/local/sbin:...:/bin, LC_ALL=C,
  // stdin /dev/null). A non-zero exit is NOT an error here; see run_checked().
  Result<GuestCommand> run(const std::string& script);
  // Like run(), but a non-zero exit is Errc::external_tool quoting the script and its stderr.
  Result<GuestCommand> run_checked(const std::string& script);

  // Syncs, unmounts and shuts the appliance down cleanly; errors mean writes may be lost.
  Result<void> shutdown();

  // Raw handle for operations without a wrapper (keep them in image/).
  guestfs_h* handle() { return m_g; }

 private:
  explicit Guest(guestfs_h* g) : m_g(g) {}
  std::unexpected<common::Error> error(std::string_view what) const;
  guestfs_h* m_g = nullptr;
};

}  // namespace binder::image
