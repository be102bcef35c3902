#include "image/archive.hpp"

#include <sys/stat.h>
#include <utime.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "common/hash.hpp"

using namespace binder;
using image::TarBuilder;
using image::TarEntry;

TEST_CASE("archive: entries are sorted, owned by root, with the given modes", "[archive]") {
  auto dir = common::fs::TempDir::create("tar-test");
  REQUIRE(dir);
  TarBuilder t;
  t.add_file("/etc/z.conf", "z\n", 0600);
  t.add_file("etc/a.conf", "a\n");
  t.add_symlink("usr/local/bin/kubectl", "k3s");
  t.add_dir("var/lib/x", 0700);
  auto out = dir->path() / "t.tar";
  REQUIRE(t.write(out, 1234));
  auto entries = image::read_tar(out);
  REQUIRE(entries);
  REQUIRE(entries->size() == 4);
  CHECK((*entries)[0].path == "etc/a.conf");
  CHECK((*entries)[1].path == "etc/z.conf");
  CHECK((*entries)[1].mode == 0600);
  CHECK((*entries)[1].data == "z\n");
  CHECK((*entries)[2].type == TarEntry::Type::symlink);
  CHECK((*entries)[2].link_target == "k3s");
  CHECK((*entries)[3].type == TarEntry::Type::dir);
  CHECK((*entries)[3].mode == 0700);
  for (const auto& e : *entries) {
    CHECK(e.uid == 0);
    CHECK(e.gid == 0);
  }
}

TEST_CASE("archive: same inputs give byte-identical tars", "[archive]") {
  auto dir = common::fs::TempDir::create("tar-test");
  REQUIRE(dir);
  auto tree = dir->path() / "tree";
  REQUIRE(common::fs::write_file_atomic(tree / "etc/motd", "hello\n", 0644));
  REQUIRE(common::fs::write_file_atomic(tree / "usr/local/bin/tool", "#!/bin/sh\n", 0755));
  auto build = [&](const char* name) {
    TarBuilder t;
    REQUIRE(t.add_tree(tree));
    t.add_file("etc/x", "x");
    REQUIRE(t.write(dir->path() / name, 99));
    return common::hash::sha256_file(dir->path() / name).value();
  };
  std::string a = build("a.tar");
  REQUIRE(::utime((tree / "etc/motd").c_str(), nullptr) == 0);
  CHECK(build("b.tar") == a);
  auto entries = image::read_tar(dir->path() / "a.tar");
  REQUIRE(entries);
  REQUIRE(entries->size() == 3);
  CHECK((*entries)[2].path == "usr/local/bin/tool");
  CHECK((*entries)[2].mode == 0755);
}

TEST_CASE("archive: a missing host file is a not_found error naming it", "[archive]") {
  TarBuilder t;
  auto r = t.add_host_file("x", "/nonexistent/k3s", 0755);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("/nonexistent/k3s") != std::string::npos);
}

TEST_CASE("archive: read_tar survives entries without a name or link target", "[archive]") {
  // read_tar accepts every libarchive format; an mtree symlink line without link= has no target
  // (archive_entry_symlink is NULL), which used to be assigned to a std::string (abort).
  auto dir = common::fs::TempDir::create("tar-test");
  REQUIRE(dir);
  auto p = dir->path() / "list.mtree";
  std::ofstream(p) << "#mtree\n./dangling type=link mode=0777\n./d type=dir mode=0755\n";
  auto entries = image::read_tar(p);
  REQUIRE(entries);
  REQUIRE(entries->size() == 2);
  CHECK((*entries)[0].type == TarEntry::Type::symlink);
  CHECK((*entries)[0].link_target.empty());
  CHECK((*entries)[1].type == TarEntry::Type::dir);
}

TEST_CASE("archive: read_tar of a gzip stream cut after the first entry is an error, not an abort",
          "[archive]") {
  // The fuzz_tar input of tests/fuzz/regressions/tar/: libarchive's error string is NULL there.
  auto r = image::read_tar(std::filesystem::path(BINDER_SOURCE_DIR) /
                           "tests/fuzz/regressions/tar/truncated-gzip-null-error.tgz");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().to_string(), Catch::Contains("unknown libarchive error"));
}
