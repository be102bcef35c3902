// Ext4Fs against real filesystems made by mke2fs -d (at an offset, like a root partition in a
// disk), checked afterwards by e2fsck and debugfs (independent of libext2fs' writer paths).
#include "image/ext4.hpp"

#include <algorithm>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"

using namespace binder;
namespace stdfs = std::filesystem;
using image::Ext4Fs;
using image::Ext4Stat;
using image::TarBuilder;

namespace {

constexpr std::uint64_t k_offset = 1 << 20;

std::string slurp(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put(const stdfs::path& p, const std::string& data, stdfs::perms mode = stdfs::perms(0644)) {
  stdfs::create_directories(p.parent_path());
  REQUIRE(common::fs::write_file_atomic(p, data));
  stdfs::permissions(p, mode);
}

// A 64 MiB ext4 filesystem labelled "root" at 1 MiB into `disk`, holding a small Debian-like tree.
void make_disk(const stdfs::path& dir, const stdfs::path& disk) {
  stdfs::path src = dir / "src";
  put(src / "etc/old.conf", std::string(10000, 'o'));
  put(src / "usr/lib/libold.so", "old lib\n");
  put(src / "etc/hostname", "before\n");
  stdfs::create_directories(src / "etc/systemd/system");
  stdfs::create_symlink("usr/lib", src / "lib");
  stdfs::create_directories(src / "etc/adir");
  { std::ofstream f(disk, std::ios::binary); }
  stdfs::resize_file(disk, k_offset + (64u << 20));
  auto r = common::exec::run_checked(
      {"mke2fs", "-q", "-F", "-t", "ext4", "-L", "root", "-E", fmt::format("offset={}", k_offset), "-d",
       src.string(), disk.string(), "64M"},
      common::exec::Options{.env = {{"E2FSPROGS_FAKE_TIME", "1600000000"}}});
  REQUIRE(r);
}

TarBuilder sample_tree(const stdfs::path& dir) {
  TarBuilder t;
  t.add_file("etc/new.conf", "new\n", 0600, 1000, 1001);
  t.add_file("etc/old.conf", "replaced\n", 0640);
  t.add_file("lib/libnew.so", "through the /lib symlink\n", 0644);
  t.add_dir("var/lib/private-dir", 0700);
  t.add_symlink("etc/systemd/system/multi-user.target.wants/a.service", "/etc/systemd/system/a.service");
  t.add_file("etc/systemd/system/a.service", "[Unit]\n");
  std::string big(3u << 20, '\0');
  std::mt19937 rng(42);
  for (auto& c : big) {
    c = static_cast<char>(rng());
  }
  put(dir / "big.bin", big, stdfs::perms(0755));
  REQUIRE(t.add_host_file("usr/local/sbin/big", dir / "big.bin", 0755));
  for (int i = 0; i < 300; ++i) {  // more entries than one directory block holds
    t.add_file(fmt::format("etc/many/file-with-a-longish-name-{:04}", i), std::to_string(i));
  }
  return t;
}

std::string fsck(const stdfs::path& disk) {
  auto r = common::exec::run({"e2fsck", "-fn", fmt::format("{}?offset={}", disk.string(), k_offset)});
  REQUIRE(r);
  return r->exit_code == 0 ? "clean" : r->out + r->err;
}

std::string debugfs_cat(const stdfs::path& disk, const std::string& path) {
  auto r = common::exec::run_checked(
      {"debugfs", "-R", "cat " + path, fmt::format("{}?offset={}", disk.string(), k_offset)});
  REQUIRE(r);
  return r->out;
}

}  // namespace

TEST_CASE("ext4: a file tree is written like tar -x, the filesystem stays consistent", "[ext4]") {
  auto dir = common::fs::TempDir::create("ext4-test");
  REQUIRE(dir);
  stdfs::path disk = dir->path() / "disk.raw";
  make_disk(dir->path(), disk);
  stdfs::copy_file(disk, dir->path() / "orig.raw");
  TarBuilder tree = sample_tree(dir->path());

  auto fs = Ext4Fs::open(disk, k_offset, true);
  REQUIRE(fs);
  CHECK(fs->label() == "root");
  auto applied = fs->apply(tree, 1700000000);
  INFO((applied ? std::string() : applied.error().to_string()));
  REQUIRE(applied);
  REQUIRE(fs->close());
  auto dirty = fs->dirty_ranges();
  REQUIRE_FALSE(dirty.empty());

  CHECK(fsck(disk) == "clean");
  CHECK(debugfs_cat(disk, "/etc/new.conf") == "new\n");
  CHECK(debugfs_cat(disk, "/etc/old.conf") == "replaced\n");
  CHECK(debugfs_cat(disk, "/usr/lib/libnew.so") == "through the /lib symlink\n");
  CHECK(debugfs_cat(disk, "/usr/local/sbin/big") == slurp(dir->path() / "big.bin"));
  CHECK(debugfs_cat(disk, "/etc/many/file-with-a-longish-name-0299") == "299");

  // Every changed byte of the disk file lies in a recorded range (what the caller copies out).
  std::string before = slurp(dir->path() / "orig.raw");
  std::string after = slurp(disk);
  REQUIRE(before.size() == after.size());
  std::size_t outside = 0;
  std::size_t r = 0;
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (before[i] != after[i]) {
      while (r < dirty.size() && dirty[r].offset + dirty[r].length <= i) {
        ++r;
      }
      if (r == dirty.size() || i < dirty[r].offset) {
        ++outside;
      }
    }
  }
  CHECK(outside == 0);
  for (const auto& d : dirty) {
    CHECK(d.offset >= k_offset);
  }

  auto ro = Ext4Fs::open(disk, k_offset, false);
  REQUIRE(ro);
  auto st = ro->stat("/etc/new.conf");
  REQUIRE(st);
  REQUIRE(st->has_value());
  CHECK((*st)->type == Ext4Stat::Type::file);
  CHECK((*st)->mode == 0600);
  CHECK((*st)->uid == 1000);
  CHECK((*st)->gid == 1001);
  CHECK((*st)->mtime == 1700000000);
  auto lib = ro->stat("/lib");
  REQUIRE(lib);
  REQUIRE(lib->has_value());
  CHECK((*lib)->type == Ext4Stat::Type::symlink);  // kept, not replaced by a directory
  CHECK((*lib)->link_target == "usr/lib");
  auto link = ro->stat("/etc/systemd/system/multi-user.target.wants/a.service");
  REQUIRE(link);
  REQUIRE(link->has_value());
  CHECK((*link)->link_target == "/etc/systemd/system/a.service");
  auto pdir = ro->stat("/var/lib/private-dir");
  REQUIRE(pdir);
  REQUIRE(pdir->has_value());
  CHECK((*pdir)->type == Ext4Stat::Type::dir);
  CHECK((*pdir)->mode == 0700);
  auto missing = ro->stat("/etc/nope");
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());
  auto big = ro->read_file("/usr/local/sbin/big");
  REQUIRE(big);
  CHECK(*big == slurp(dir->path() / "big.bin"));
  auto hostname = ro->read_file("etc/hostname");
  REQUIRE(hostname);
  CHECK(*hostname == "before\n");
}

TEST_CASE("ext4: equal inputs give byte-identical filesystems", "[ext4]") {
  auto dir = common::fs::TempDir::create("ext4-repro");
  REQUIRE(dir);
  stdfs::path a = dir->path() / "a.raw";
  make_disk(dir->path(), a);
  stdfs::path b = dir->path() / "b.raw";
  stdfs::copy_file(a, b);
  TarBuilder tree = sample_tree(dir->path());
  for (const auto& disk : {a, b}) {
    auto fs = Ext4Fs::open(disk, k_offset, true);
    REQUIRE(fs);
    REQUIRE(fs->apply(tree, 1700000000));
    REQUIRE(fs->close());
  }
  CHECK(slurp(a) == slurp(b));
}

TEST_CASE("ext4: what can't be written is refused with a clear error", "[ext4]") {
  auto dir = common::fs::TempDir::create("ext4-bad");
  REQUIRE(dir);
  stdfs::path disk = dir->path() / "disk.raw";
  make_disk(dir->path(), disk);

  auto none = Ext4Fs::open(disk, 0, true);  // no superblock at offset 0
  REQUIRE_FALSE(none);
  CHECK(none.error().code == common::Errc::precondition);
  CHECK_THAT(none.error().message, Catch::Contains("no ext2/3/4 filesystem"));

  auto fs = Ext4Fs::open(disk, k_offset, true);
  REQUIRE(fs);
  TarBuilder t;
  t.add_file("etc/adir", "a file where a directory is\n");
  auto r = fs->apply(t, 1700000000);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().to_string(), Catch::Contains("'/etc/adir' is a directory"));
}

TEST_CASE("ext4: rm -rf, truncate and list leave a consistent filesystem", "[ext4]") {
  auto dir = common::fs::TempDir::create("ext4-rm");
  REQUIRE(dir);
  stdfs::path disk = dir->path() / "disk.raw";
  make_disk(dir->path(), disk);
  auto fs = Ext4Fs::open(disk, k_offset, true);
  REQUIRE(fs);
  fs->set_time(1700000000);
  REQUIRE(fs->apply(sample_tree(dir->path()), 1700000000));  // etc/many: 300 files
  auto names = fs->list("/etc");
  REQUIRE(names);
  CHECK(std::is_sorted(names->begin(), names->end()));
  CHECK(std::find(names->begin(), names->end(), "many") != names->end());
  auto gone = fs->remove("/etc/many", true);
  REQUIRE(gone);
  CHECK(*gone);
  auto again = fs->remove("/etc/many", true);
  REQUIRE(again);
  CHECK_FALSE(*again);
  auto not_recursive = fs->remove("/etc/adir", false);
  CHECK_FALSE(not_recursive);  // a directory without recursive
  auto t = fs->truncate("/usr/local/sbin/big");
  REQUIRE(t);
  CHECK(*t);
  auto link = fs->remove("/lib", false);  // a symlink goes, its target stays
  REQUIRE(link);
  CHECK(*link);
  REQUIRE(fs->close());
  CHECK(fsck(disk) == "clean");
  auto ro = Ext4Fs::open(disk, k_offset, false);
  REQUIRE(ro);
  auto st = ro->stat("/etc/many");
  REQUIRE(st);
  CHECK_FALSE(st->has_value());
  auto big = ro->stat("/usr/local/sbin/big");
  REQUIRE(big);
  REQUIRE(big->has_value());
  CHECK((*big)->size == 0);
  CHECK((*big)->mode == 0755);
  auto lib = ro->stat("/usr/lib/libold.so");
  REQUIRE(lib);
  CHECK(lib->has_value());
}
