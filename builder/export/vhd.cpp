// See vhd.hpp. Plain POSIX I/O on the last 512 bytes; the disk data is never read.
#include "export/vhd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "common/hash.hpp"

namespace binder::exporter::vhd {
namespace {

using common::Errc;
using common::fail;

constexpr std::size_t k_footer = 512;
using Block = std::array<unsigned char, k_footer>;

std::uint64_t be(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) {
    v = (v << 8) | p[i];
  }
  return v;
}

void put_be32(unsigned char* p, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) {
    p[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
}

// Opens `path` and finds the footer offset; the caller closes the fd.
Result<std::pair<int, off_t>> open_footer(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    return fail(Errc::io, "opening '{}': {}", path.string(), std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(k_footer)) {
    ::close(fd);
    return fail(Errc::corrupt_state, "'{}' is too short to hold a VHD footer", path.string());
  }
  return std::pair{fd, st.st_size - static_cast<off_t>(k_footer)};
}

Result<Block> read_block(int fd, off_t at, const std::filesystem::path& path) {
  Block b{};
  if (::pread(fd, b.data(), b.size(), at) != static_cast<ssize_t>(b.size())) {
    return fail(Errc::io, "reading the VHD footer of '{}': {}", path.string(), std::strerror(errno));
  }
  return b;
}

}  // namespace

std::uint32_t footer_checksum(const unsigned char* bytes) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < k_footer; ++i) {
    if (i < 64 || i >= 68) {
      sum += bytes[i];
    }
  }
  return ~sum;
}

Footer parse_footer(const unsigned char* b) {
  Footer f;
  f.cookie.assign(reinterpret_cast<const char*>(b), 8);
  f.timestamp = static_cast<std::uint32_t>(be(b + 24, 4));
  f.original_size = be(b + 40, 8);
  f.current_size = be(b + 48, 8);
  f.disk_type = static_cast<std::uint32_t>(be(b + 60, 4));
  f.checksum = static_cast<std::uint32_t>(be(b + 64, 4));
  f.computed_checksum = footer_checksum(b);
  f.unique_id_hex = common::hash::to_hex(std::string_view(reinterpret_cast<const char*>(b + 68), 16));
  return f;
}

Result<Footer> read_footer(const std::filesystem::path& path) {
  TRY_ASSIGN(auto fd_at, open_footer(path, O_RDONLY));
  auto block = read_block(fd_at.first, fd_at.second, path);
  ::close(fd_at.first);
  if (!block) {
    return std::unexpected(block.error());
  }
  return parse_footer(block->data());
}

Result<void> verify_fixed(const std::filesystem::path& path, std::uint64_t virtual_size) {
  TRY_ASSIGN(Footer f, read_footer(path));
  std::error_code ec;
  std::uint64_t file_size = std::filesystem::file_size(path, ec);
  auto bad = [&](std::string_view what, auto expected, auto found) {
    return fail(Errc::corrupt_state, "'{}' is not a valid fixed VHD: {} is {}, expected {}", path.string(),
                what, found, expected);
  };
  if (f.cookie != "conectix") {
    return bad("the footer cookie", "'conectix'", "'" + f.cookie + "'");
  }
  if (f.disk_type != 2) {
    return bad("the disk type", "2 (fixed)", f.disk_type);
  }
  if (f.checksum != f.computed_checksum) {
    return bad("the footer checksum", fmt::format("{:#010x}", f.computed_checksum),
               fmt::format("{:#010x}", f.checksum));
  }
  if (f.current_size != virtual_size) {
    return bad("the current size", virtual_size, f.current_size);
  }
  if (ec || file_size != virtual_size + k_footer) {
    return bad("the file size", virtual_size + k_footer, file_size);
  }
  return {};
}

Result<void> pin_footer(const std::filesystem::path& path, std::int64_t epoch, const std::string& seed) {
  TRY_ASSIGN(auto fd_at, open_footer(path, O_RDWR));
  auto [fd, at] = fd_at;
  auto block = read_block(fd, at, path);
  if (!block) {
    ::close(fd);
    return std::unexpected(block.error());
  }
  Block& b = *block;
  std::int64_t since = epoch > k_vhd_epoch ? epoch - k_vhd_epoch : 0;
  put_be32(b.data() + 24, static_cast<std::uint32_t>(since));
  common::hash::Sha256 h;
  h.update(seed);
  std::string id = h.raw_digest();
  std::memcpy(b.data() + 68, id.data(), 16);
  b[68 + 6] = static_cast<unsigned char>((b[68 + 6] & 0x0f) | 0x40);  // version 4
  b[68 + 8] = static_cast<unsigned char>((b[68 + 8] & 0x3f) | 0x80);  // RFC 4122 variant
  put_be32(b.data() + 64, footer_checksum(b.data()));
  bool ok = ::pwrite(fd, b.data(), b.size(), at) == static_cast<ssize_t>(b.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) {
    return fail(Errc::io, "rewriting the VHD footer of '{}': {}", path.string(), std::strerror(err));
  }
  return {};
}

}  // namespace binder::exporter::vhd
