// See fs.hpp.
#include "common/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace binder::common::fs {
namespace {

std::atomic<int> g_fault_at{0};
std::atomic<int> g_fault_count{0};
std::atomic<int> g_temp_counter{0};

std::unexpected<Error> errno_error(std::string_view what, const stdfs::path& path, int err) {
  return fail(Errc::io, "{} '{}': {}", what, path.string(), std::strerror(err));
}

Result<void> write_all(int fd, std::string_view content, const stdfs::path& path) {
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error("writing", path, errno);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

void inject_write_fault(int n) {
  g_fault_at = n;
  g_fault_count = 0;
}

int fault_points_passed() { return g_fault_count; }

Result<void> fault_point(std::string_view what) {
  int at = g_fault_at.load();
  int count = ++g_fault_count;
  if (at > 0 && count == at) {
    return fail(Errc::io, "injected fault at write #{} ({})", count, what);
  }
  return {};
}

Result<std::string> read_file(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(errno == ENOENT ? Errc::not_found : Errc::io, "reading '{}': {}", path.string(),
                std::strerror(errno));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      ::close(fd);
      return errno_error("reading", path, err);
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<std::optional<std::string>> read_file_if_exists(const stdfs::path& path) {
  auto r = read_file(path);
  if (!r) {
    if (r.error().code == Errc::not_found) {
      return std::optional<std::string>{};
    }
    return std::unexpected(r.error());
  }
  return std::optional<std::string>{std::move(*r)};
}

Result<void> fsync_dir(const stdfs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return errno_error("opening directory", dir, errno);
  }
  ::fsync(fd);
  ::close(fd);
  return {};
}

Result<void> make_directories(const stdfs::path& dir, mode_t mode) {
  std::error_code ec;
  if (stdfs::is_directory(dir, ec)) {
    return {};
  }
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    TRY(make_directories(dir.parent_path(), 0755));
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return errno_error("creating directory", dir, errno);
  }
  return {};
}

Result<void> remove_tree(const stdfs::path& path) {
  std::error_code ec;
  stdfs::remove_all(path, ec);
  if (ec) {
    return fail(Errc::io, "removing '{}': {}", path.string(), ec.message());
  }
  return {};
}

Result<void> rename_path(const stdfs::path& from, const stdfs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return fail(Errc::io, "renaming '{}' to '{}': {}", from.string(), to.string(), std::strerror(errno));
  }
  return {};
}

Result<std::uintmax_t> size_of(const stdfs::path& path) {
  std::error_code ec;
  auto size = stdfs::file_size(path, ec);
  if (ec) {
    return fail(Errc::io, "size of '{}': {}", path.string(), ec.message());
  }
  return size;
}

Result<std::uint64_t> read_chunks(const stdfs::path& path,
                                  const std::function<Result<void>(const char*, std::size_t)>& sink,
                                  std::size_t chunk) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno_error("opening", path, errno);
  }
  std::vector<char> buf(chunk);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return errno_error("reading", path, err);
    }
    if (n == 0) {
      break;
    }
    total += static_cast<std::uint64_t>(n);
    if (auto r = sink(buf.data(), static_cast<std::size_t>(n)); !r) {
      ::close(fd);
      return std::unexpected(r.error());
    }
  }
  ::close(fd);
  return total;
}

Result<void> write_file_atomic(const stdfs::path& path, std::string_view content, mode_t mode) {
  TRY(fault_point(path.string()));
  if (path.has_parent_path()) {
    TRY(make_directories(path.parent_path()));
  }
  AtomicFile file(path);
  int fd = ::open(file.temp_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return errno_error("creating", file.temp_path(), errno);
  }
  ::fchmod(fd, mode);  // umask must not widen or narrow what the caller asked for
  auto written = write_all(fd, content, file.temp_path());
  if (!written) {
    ::close(fd);
    return written;
  }
  if (::close(fd) != 0) {
    return errno_error("closing", file.temp_path(), errno);
  }
  return file.commit();
}

Result<void> append_file_synced(const stdfs::path& path, std::string_view content, mode_t mode) {
  TRY(fault_point(path.string()));
  if (path.has_parent_path()) {
    TRY(make_directories(path.parent_path()));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode);
  if (fd < 0) {
    return errno_error("opening", path, errno);
  }
  auto written = write_all(fd, content, path);
  if (written && ::fdatasync(fd) != 0) {
    written = errno_error("syncing", path, errno);
  }
  ::close(fd);
  return written;
}

AtomicFile::AtomicFile(stdfs::path target) : m_target(std::move(target)) {
  m_temp = m_target;
  m_temp += fmt::format(".tmp-{}-{}", ::getpid(), g_temp_counter++);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : m_target(std::move(other.m_target)), m_temp(std::move(other.m_temp)), m_committed(other.m_committed) {
  other.m_committed = true;
}

AtomicFile::~AtomicFile() {
  if (!m_committed) {
    std::error_code ec;
    stdfs::remove_all(m_temp, ec);
  }
}

Result<void> AtomicFile::commit() {
  int fd = ::open(m_temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno_error("opening", m_temp, errno);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return errno_error("syncing", m_temp, err);
  }
  ::close(fd);
  TRY(rename_path(m_temp, m_target));
  m_committed = true;
  return fsync_dir(m_target.has_parent_path() ? m_target.parent_path() : stdfs::path("."));
}

Result<TempDir> TempDir::create(std::string_view prefix, const stdfs::path& parent) {
  stdfs::path base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp && *tmp ? tmp : "/tmp";
  }
  TRY(make_directories(base));
  std::string templ = (base / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return errno_error("creating temporary directory in", base, errno);
  }
  return TempDir(stdfs::path(templ));
}

TempDir::TempDir(TempDir&& other) noexcept : m_path(std::move(other.m_path)) { other.m_path.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!m_path.empty()) {
      std::error_code ec;
      stdfs::remove_all(m_path, ec);
    }
    m_path = std::move(other.m_path);
    other.m_path.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (!m_path.empty()) {
    std::error_code ec;
    stdfs::remove_all(m_path, ec);
  }
}

stdfs::path TempDir::release() {
  stdfs::path p = std::move(m_path);
  m_path.clear();
  return p;
}

}  // namespace binder::common::fs
