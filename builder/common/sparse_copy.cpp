// See sparse_copy.hpp.
#include "common/sparse_copy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace binder::common::fs {

namespace {

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

Result<void> write_all(int fd, const char* data, std::size_t size, std::uint64_t at,
                       const std::filesystem::path& to) {
  for (std::size_t done = 0; done < size;) {
    ssize_t w = ::pwrite(fd, data + done, size - done, static_cast<off_t>(at + done));
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return fail(Errc::io, "writing '{}' at {}: {}", to.string(), at + done, std::strerror(errno));
    }
    done += static_cast<std::size_t>(w);
  }
  return {};
}

}  // namespace

Result<void> copy_range(const std::filesystem::path& from, std::uint64_t from_off,
                        const std::filesystem::path& to, std::uint64_t to_off, std::uint64_t len,
                        RangeTarget target) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  Fd out(::open(to.c_str(), O_WRONLY | O_CLOEXEC));
  if (in.fd < 0 || out.fd < 0) {
    return fail(Errc::io, "copying {} bytes from '{}' to '{}': {}", len, from.string(), to.string(),
                std::strerror(errno));
  }
  if (target == RangeTarget::punch && len > 0 &&
      ::fallocate(out.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(to_off),
                  static_cast<off_t>(len)) != 0) {
    return fail(Errc::io, "clearing {} bytes at {} of '{}': {}", len, to_off, to.string(),
                std::strerror(errno));
  }
  std::vector<char> buf(1 << 20);
  const std::uint64_t end = from_off + len;
  std::uint64_t pos = from_off;
  while (pos < end) {
    off_t data = ::lseek(in.fd, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0 || static_cast<std::uint64_t>(data) >= end) {
      break;  // ENXIO: only a hole is left
    }
    off_t hole = ::lseek(in.fd, data, SEEK_HOLE);
    std::uint64_t stop = std::min<std::uint64_t>(end, hole < 0 ? end : static_cast<std::uint64_t>(hole));
    for (std::uint64_t p = static_cast<std::uint64_t>(data); p < stop;) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), stop - p));
      ssize_t got = ::pread(in.fd, buf.data(), n, static_cast<off_t>(p));
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got <= 0) {
        return fail(Errc::io, "reading '{}' at {}: {}", from.string(), p,
                    got == 0 ? "unexpected end of file" : std::strerror(errno));
      }
      auto size = static_cast<std::size_t>(got);
      if (!std::all_of(buf.begin(), buf.begin() + got, [](char c) { return c == 0; })) {
        TRY(write_all(out.fd, buf.data(), size, to_off + (p - from_off), to));
      }
      p += size;
    }
    pos = stop;
  }
  return {};
}

}  // namespace binder::common::fs
