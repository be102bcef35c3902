#include "common/sparse_copy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <catch2/catch.hpp>

#include "common/fs.hpp"

using namespace binder::common;

namespace {

constexpr std::uint64_t k_mib = 1 << 20;

// A sparse file of `size` bytes with `data` written at each offset.
void make_file(const std::filesystem::path& p, std::uint64_t size,
               const std::vector<std::pair<std::uint64_t, std::string>>& data) {
  REQUIRE(fs::write_file_atomic(p, ""));
  std::filesystem::resize_file(p, size);
  int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  for (const auto& [at, bytes] : data) {
    REQUIRE(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at)) ==
            static_cast<ssize_t>(bytes.size()));
  }
  ::close(fd);
}

std::uint64_t allocated(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

}  // namespace

TEST_CASE("sparse copy: the range lands at its offset, holes and zero blocks stay holes", "[fs]") {
  auto dir = fs::TempDir::create("binder-sparse-test");
  REQUIRE(dir);
  auto src = dir->path() / "src", dst = dir->path() / "dst";
  // Data at 1 MiB and 6 MiB; 3 MiB of written zeros (a data extent that is all zero) at 3 MiB.
  make_file(
      src, 8 * k_mib,
      {{k_mib, std::string(5000, 'a')}, {3 * k_mib, std::string(3 * k_mib, '\0')}, {6 * k_mib + 10, "tail"}});
  make_file(dst, 16 * k_mib, {});
  REQUIRE(fs::copy_range(src, k_mib, dst, 4 * k_mib, 6 * k_mib, fs::RangeTarget::zeros));
  auto got = fs::read_file(dst);
  REQUIRE(got);
  REQUIRE(got->size() == 16 * k_mib);
  std::string want(16 * k_mib, '\0');
  want.replace(4 * k_mib, 5000, std::string(5000, 'a'));
  want.replace(4 * k_mib + 5 * k_mib + 10, 4, "tail");
  CHECK(*got == want);
  // Only the two data blocks were written (the all-zero extent was not).
  CHECK(allocated(dst) <= 2 * k_mib);
}

TEST_CASE("sparse copy: punch makes the destination range equal the source range exactly", "[fs]") {
  auto dir = fs::TempDir::create("binder-sparse-test");
  REQUIRE(dir);
  auto src = dir->path() / "src", dst = dir->path() / "dst";
  make_file(src, 2 * k_mib, {{100, "new"}});
  make_file(dst, 4 * k_mib, {{0, std::string(4 * k_mib, 'x')}});
  REQUIRE(fs::copy_range(src, 0, dst, k_mib, 2 * k_mib, fs::RangeTarget::punch));
  auto got = fs::read_file(dst);
  REQUIRE(got);
  std::string want(4 * k_mib, 'x');
  want.replace(k_mib, 2 * k_mib, std::string(2 * k_mib, '\0'));
  want.replace(k_mib + 100, 3, "new");
  CHECK(*got == want);
}

TEST_CASE("sparse copy: a missing file is an error naming both paths", "[fs]") {
  auto dir = fs::TempDir::create("binder-sparse-test");
  REQUIRE(dir);
  auto r = fs::copy_range(dir->path() / "nope", 0, dir->path() / "dst", 0, 10, fs::RangeTarget::zeros);
  REQUIRE(!r);
  CHECK(r.error().message.find("nope") != std::string::npos);
  CHECK(r.error().message.find("dst") != std::string::npos);
}
