// See guestfs.hpp. Each wrapper calls one libguestfs function and turns -1/NULL into a Result with
// guestfs_last_error(); the default error handler is disabled so nothing is printed behind our back.
#include "image/guestfs.hpp"

#include <guestfs.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <utility>

namespace binder::image {
namespace {

using common::Errc;
using common::fail;

std::atomic<int> g_launches{0};

// Frees a NULL-terminated string list returned by libguestfs.
std::vector<std::string> take_list(char** list) {
  std::vector<std::string> out;
  if (list == nullptr) {
    return out;
  }
  for (char** p = list; *p != nullptr; ++p) {
    out.emplace_back(*p);
    std::free(*p);
  }
  std::free(list);
  return out;
}

std::string take_string(char* s) {
  std::string out = s != nullptr ? s : "";
  std::free(s);
  return out;
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

constexpr const char* k_out = "/tmp/.binder-cmd.out";
constexpr const char* k_err = "/tmp/.binder-cmd.err";
constexpr const char* k_rc = "/tmp/.binder-cmd.rc";

}  // namespace

std::unexpected<common::Error> Guest::error(std::string_view what) const {
  const char* msg = m_g != nullptr ? guestfs_last_error(m_g) : nullptr;
  return fail(Errc::external_tool, "{}: {}", what, msg != nullptr ? msg : "libguestfs error");
}

Result<Guest> Guest::launch(const std::vector<Drive>& drives, const GuestOptions& options) {
  for (const auto& [key, value] : options.env) {
    ::setenv(key.c_str(), value.c_str(), 1);
  }
  guestfs_h* g = guestfs_create();
  if (g == nullptr) {
    return fail(Errc::external_tool, "creating libguestfs handle failed");
  }
  Guest guest(g);
  guestfs_set_error_handler(g, nullptr, nullptr);
  if (options.memsize_mb > 0 && guestfs_set_memsize(g, options.memsize_mb) == -1) {
    return guest.error("setting appliance memory");
  }
  for (const auto& d : drives) {
    int ro = d.access == Access::read_only ? 1 : 0;
    if (guestfs_add_drive_opts(g, d.path.c_str(), GUESTFS_ADD_DRIVE_OPTS_FORMAT, d.format.c_str(),
                               GUESTFS_ADD_DRIVE_OPTS_READONLY, ro, -1) == -1) {
      return guest.error(fmt::format("adding drive '{}'", d.path.string()));
    }
  }
  ++g_launches;
  if (guestfs_launch(g) == -1) {
    return guest.error("launching libguestfs appliance");
  }
  return guest;
}

Guest::Guest(Guest&& other) noexcept : m_g(std::exchange(other.m_g, nullptr)) {}

Guest& Guest::operator=(Guest&& other) noexcept {
  if (this != &other) {
    if (m_g != nullptr) {
      guestfs_close(m_g);
    }
    m_g = std::exchange(other.m_g, nullptr);
  }
  return *this;
}

Guest::~Guest() {
  if (m_g != nullptr) {
    guestfs_close(m_g);
  }
}

int Guest::launch_count() { return g_launches.load(); }

Result<std::string> Guest::root_device() {
  for (const char* label : {"root", "cloudimg-rootfs", "rootfs"}) {
    char* dev = guestfs_findfs_label(m_g, label);
    if (dev != nullptr) {
      return take_string(dev);
    }
  }
  std::vector<std::string> roots = take_list(guestfs_inspect_os(m_g));
  if (roots.empty()) {
    return fail(Errc::not_found, "no root filesystem found (no 'root' label, inspection found no OS)");
  }
  return roots.front();
}

Result<void> Guest::mount_root(Access access) {
  TRY_ASSIGN(std::string dev, root_device());
  int rc = access == Access::read_only ? guestfs_mount_ro(m_g, dev.c_str(), "/")
                                       : guestfs_mount(m_g, dev.c_str(), "/");
  if (rc == -1) {
    return error(fmt::format("mounting root filesystem '{}'", dev));
  }
  return {};
}

Result<bool> Guest::grow_root_to_disk() {
  TRY_ASSIGN(std::string root, root_device());
  const char* disk = "/dev/sda";
  int partnum = guestfs_part_to_partnum(m_g, root.c_str());
  if (partnum == -1) {
    return error(fmt::format("finding the partition number of '{}'", root));
  }
  guestfs_partition_list* parts = guestfs_part_list(m_g, disk);
  if (parts == nullptr) {
    return error("listing partitions of /dev/sda");
  }
  int last = 0;
  int64_t end_byte = 0;
  for (uint32_t i = 0; i < parts->len; ++i) {
    if (parts->val[i].part_num > last) {
      last = parts->val[i].part_num;
    }
    if (parts->val[i].part_num == partnum) {
      end_byte = parts->val[i].part_end;
    }
  }
  guestfs_free_partition_list(parts);
  if (last != partnum) {
    return fail(Errc::precondition, "root partition {} is not the last partition ({}), cannot grow it",
                partnum, last);
  }
  int64_t sectors = guestfs_blockdev_getsz(m_g, disk);
  if (sectors == -1) {
    return error("reading the size of /dev/sda");
  }
  // The backup GPT occupies the last 33 sectors; leave them plus one.
  int64_t new_end = sectors - 34;
  if ((end_byte + 1) / 512 >= new_end - 2048) {
    return false;  // already (nearly) fills the disk
  }
  if (guestfs_part_expand_gpt(m_g, disk) == -1) {
    return error("moving the backup GPT header to the end of the disk");
  }
  if (guestfs_part_resize(m_g, disk, partnum, new_end) == -1) {
    return error(fmt::format("resizing partition {} of /dev/sda", partnum));
  }
  if (guestfs_e2fsck(m_g, root.c_str(), GUESTFS_E2FSCK_CORRECT, 1, GUESTFS_E2FSCK_FORCEALL, 0, -1) == -1) {
    return error(fmt::format("checking filesystem '{}' before resizing", root));
  }
  if (guestfs_resize2fs(m_g, root.c_str()) == -1) {
    return error(fmt::format("growing filesystem '{}'", root));
  }
  return true;
}

Result<void> Guest::upload(const std::filesystem::path& host, const std::string& guest_path) {
  if (guestfs_upload(m_g, host.c_str(), guest_path.c_str()) == -1) {
    return error(fmt::format("uploading '{}' to '{}'", host.string(), guest_path));
  }
  return {};
}

Result<void> Guest::write(const std::string& path, std::string_view content) {
  if (guestfs_write(m_g, path.c_str(), content.data(), content.size()) == -1) {
    return error(fmt::format("writing '{}'", path));
  }
  return {};
}

Result<std::string> Guest::read(const std::string& path) {
  size_t size = 0;
  char* data = guestfs_read_file(m_g, path.c_str(), &size);
  if (data == nullptr) {
    return error(fmt::format("reading '{}'", path));
  }
  std::string out(data, size);
  std::free(data);
  return out;
}

Result<void> Guest::mkdir_p(const std::string& path) {
  if (guestfs_mkdir_p(m_g, path.c_str()) == -1) {
    return error(fmt::format("creating directory '{}'", path));
  }
  return {};
}

Result<void> Guest::chmod(const std::string& path, mode_t mode) {
  if (guestfs_chmod(m_g, static_cast<int>(mode), path.c_str()) == -1) {
    return error(fmt::format("chmod {:o} '{}'", mode, path));
  }
  return {};
}

Result<void> Guest::set_times(const std::string& path, std::int64_t t) {
  if (guestfs_utimens(m_g, path.c_str(), t, 0, t, 0) == -1) {
    return error(fmt::format("setting the times of '{}'", path));
  }
  return {};
}

Result<void> Guest::chown(const std::string& path, uid_t uid, gid_t gid) {
  if (guestfs_chown(m_g, static_cast<int>(uid), static_cast<int>(gid), path.c_str()) == -1) {
    return error(fmt::format("chown {}:{} '{}'", uid, gid, path));
  }
  return {};
}

Result<void> Guest::ln_sf(const std::string& target, const std::string& link) {
  if (guestfs_ln_sf(m_g, target.c_str(), link.c_str()) == -1) {
    return error(fmt::format("linking '{}' -> '{}'", link, target));
  }
  return {};
}

Result<void> Guest::rm_rf(const std::string& path) {
  if (guestfs_rm_rf(m_g, path.c_str()) == -1) {
    return error(fmt::format("removing '{}'", path));
  }
  return {};
}

Result<void> Guest::truncate(const std::string& path) {
  if (guestfs_truncate(m_g, path.c_str()) == -1) {
    return error(fmt::format("truncating '{}'", path));
  }
  return {};
}

Result<std::vector<std::string>> Guest::glob(const std::string& pattern) {
  char** list = guestfs_glob_expand(m_g, pattern.c_str());
  if (list == nullptr) {
    return error(fmt::format("expanding '{}'", pattern));
  }
  std::vector<std::string> out = take_list(list);
  std::sort(out.begin(), out.end());
  return out;
}

Result<bool> Guest::exists(const std::string& path) {
  int r = guestfs_exists(m_g, path.c_str());
  if (r == -1) {
    return error(fmt::format("checking '{}'", path));
  }
  return r == 1;
}

Result<bool> Guest::is_file(const std::string& path) {
  int r = guestfs_is_file(m_g, path.c_str());
  if (r == -1) {
    return error(fmt::format("checking '{}'", path));
  }
  return r == 1;
}

Result<bool> Guest::is_dir(const std::string& path) {
  int r = guestfs_is_dir(m_g, path.c_str());
  if (r == -1) {
    return error(fmt::format("checking '{}'", path));
  }
  return r == 1;
}

Result<bool> Guest::is_symlink(const std::string& path) {
  int r = guestfs_is_symlink(m_g, path.c_str());
  if (r == -1) {
    return error(fmt::format("checking '{}'", path));
  }
  return r == 1;
}

Result<std::string> Guest::readlink(const std::string& path) {
  char* s = guestfs_readlink(m_g, path.c_str());
  if (s == nullptr) {
    return error(fmt::format("reading link '{}'", path));
  }
  return take_string(s);
}

Result<void> Guest::tar_in(const std::filesystem::path& host_tar, const std::string& dir) {
  if (guestfs_tar_in_opts(m_g, host_tar.c_str(), dir.c_str(), -1) == -1) {
    return error(fmt::format("extracting '{}' into '{}'", host_tar.string(), dir));
  }
  return {};
}

Result<GuestCommand> Guest::run(const std::string& script) {
  // guestfs_sh would hide stderr and exit status of a failing tool: capture both ourselves.
  std::string wrapped = fmt::format(
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C; export PATH "
      "LC_ALL; (/bin/sh -c {}) </dev/null >{} 2>{}; echo $? >{}",
      shell_quote(script), k_out, k_err, k_rc);
  char* out = guestfs_sh(m_g, wrapped.c_str());
  if (out == nullptr) {
    return error(fmt::format("running '{}' in the guest", script));
  }
  std::free(out);
  GuestCommand result;
  TRY_ASSIGN(std::string rc, read(k_rc));
  result.exit_code = std::atoi(rc.c_str());
  TRY_ASSIGN(result.out, read(k_out));
  TRY_ASSIGN(result.err, read(k_err));
  for (const char* f : {k_out, k_err, k_rc}) {
    TRY(rm_rf(f));
  }
  return result;
}

Result<GuestCommand> Guest::run_checked(const std::string& script) {
  TRY_ASSIGN(GuestCommand r, run(script));
  if (r.exit_code != 0) {
    std::string err = r.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) {
      err.pop_back();
    }
    if (err.size() > 2000) {
      err = "..." + err.substr(err.size() - 2000);
    }
    return fail(Errc::external_tool, "'{}' in the guest: exit status {}{}{}", script, r.exit_code,
                err.empty() ? "" : ": ", err);
  }
  return r;
}

Result<void> Guest::shutdown() {
  if (guestfs_sync(m_g) == -1) {
    return error("syncing guest filesystems");
  }
  if (guestfs_umount_all(m_g) == -1) {
    return error("unmounting guest filesystems");
  }
  if (guestfs_shutdown(m_g) == -1) {
    return error("shutting the appliance down");
  }
  guestfs_close(m_g);
  m_g = nullptr;
  return {};
}

}  // namespace binder::image
