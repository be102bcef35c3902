#include "common/fs.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

using namespace binder::common;

TEST_CASE("fs: atomic write replaces content, keeps mode, leaves no temp file", "[fs]") {
  auto dir = fs::TempDir::create("binder-fs-test");
  REQUIRE(dir);
  auto target = dir->path() / "sub" / "secret";
  REQUIRE(fs::write_file_atomic(target, "one", 0600));
  REQUIRE(fs::write_file_atomic(target, "two", 0600));
  REQUIRE(*fs::read_file(target) == "two");
  struct stat st {};
  REQUIRE(::stat(target.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(target.parent_path()))
    ++entries;
  CHECK(entries == 1);
}

TEST_CASE("fs: an injected fault fails exactly the Nth write and keeps the old file", "[fs]") {
  auto dir = fs::TempDir::create("binder-fs-test");
  REQUIRE(dir);
  auto target = dir->path() / "f";
  REQUIRE(fs::write_file_atomic(target, "old"));
  fs::inject_write_fault(2);
  CHECK(fs::write_file_atomic(target, "a"));
  auto r = fs::write_file_atomic(target, "b");
  CHECK_FALSE(r);
  CHECK(r.error().message.find("injected fault") != std::string::npos);
  CHECK(*fs::read_file(target) == "a");
  fs::inject_write_fault(0);
}
