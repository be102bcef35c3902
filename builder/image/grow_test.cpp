// grow_root_partition on small disks laid out like Ubuntu's cloud image (root = partition 1, last
// on the disk after 14/15/16), checked by sfdisk, e2fsck and reading the files back.
#include "image/grow.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/hash.hpp"
#include "image/ext4.hpp"
#include "support/skip.hpp"

using namespace binder;
namespace exec = binder::common::exec;
namespace stdfs = std::filesystem;

namespace {

constexpr std::uint64_t k_mib = 1 << 20;

void run(std::vector<std::string> argv, const std::string& in = {}) {
  auto r = exec::run(argv, {.timeout = std::chrono::seconds(120),
                            .stdin_data = in,
                            .env = {{"E2FSPROGS_FAKE_TIME", "1700000000"}}});
  REQUIRE(r);
  INFO(argv[0] << ": " << r->out << r->err);
  REQUIRE(r->exit_code == 0);
}

// A 48 MiB disk: p14 BIOS boot, p15 ESP (empty), p16 ext4 BOOT, p1 ext4 `root_label` last (or,
// with root_last false, p1 before p16).
stdfs::path make_grow_disk(const stdfs::path& dir, const std::string& root_label, bool root_last = true) {
  auto tree = dir / "tree";
  stdfs::create_directories(tree / "etc");
  REQUIRE(common::fs::write_file_atomic(tree / "etc/os-release", "ID=debian\n"));
  REQUIRE(common::fs::write_file_atomic(tree / "etc/hostname", "ubuntu\n"));
  auto disk = dir / "disk.raw";
  REQUIRE(common::fs::write_file_atomic(disk, ""));
  stdfs::resize_file(disk, 48 * k_mib);
  std::string table =
      root_last
          ? "label: gpt\nlabel-id: 11111111-2222-4333-8444-555555555555\n"
            "disk.raw1 : start=40960, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=11111111-2222-4333-8444-000000000001\n"
            "disk.raw14 : start=2048, size=8192, type=21686148-6449-6E6F-744E-656564454649, uuid=11111111-2222-4333-8444-000000000014\n"
            "disk.raw15 : start=10240, size=10240, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=11111111-2222-4333-8444-000000000015\n"
            "disk.raw16 : start=20480, size=20480, type=BC13C2FF-59E6-4262-A352-B275FD6F7172, uuid=11111111-2222-4333-8444-000000000016\n"
          : "label: gpt\n"
            "disk.raw1 : start=20480, size=40960, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n"
            "disk.raw16 : start=61440, type=BC13C2FF-59E6-4262-A352-B275FD6F7172\n";
  run({"sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", disk.string()}, table);
  std::uint64_t root_start = root_last ? 40960 : 20480;
  std::uint64_t root_blocks = root_last ? (48 * k_mib - 40960 * 512 - 34 * 512) / 4096 : 40960 / 8;
  run({"mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-L", root_label, "-U",
       "11111111-2222-4333-8444-aaaaaaaaaaaa", "-E",
       fmt::format("offset={},hash_seed=11111111-2222-4333-8444-bbbbbbbbbbbb", root_start * 512), "-d",
       tree.string(), disk.string(), std::to_string(root_blocks)});
  if (root_last) {
    run({"mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-L", "BOOT", "-U",
         "11111111-2222-4333-8444-cccccccccccc", "-E",
         fmt::format("offset={},hash_seed=11111111-2222-4333-8444-dddddddddddd", 20480 * 512), disk.string(),
         std::to_string(20480 / 8)});
  }
  return disk;
}

bool have_tools() {
  for (const char* t : {"sfdisk", "mke2fs", "resize2fs", "e2fsck"}) {
    if (!exec::find_program(t))
      return false;
  }
  return true;
}

}  // namespace

TEST_CASE("grow_root_partition grows an Ubuntu-shaped root to the end of the disk, reproducibly", "[grow]") {
  if (!have_tools()) {
    BINDER_SKIP_MISSING_TOOL("resize2fs");
  }
  auto dir = common::fs::TempDir::create("grow-test");
  REQUIRE(dir);
  auto disk = make_grow_disk(dir->path(), "cloudimg-rootfs");
  stdfs::resize_file(disk, 160 * k_mib);
  auto copy = dir->path() / "copy.raw";
  stdfs::copy_file(disk, copy);

  auto r = image::grow_root_partition(disk, 1700000000);
  REQUIRE(r);
  CHECK(r->partition == 1);
  CHECK(r->label == "cloudimg-rootfs");
  CHECK(r->offset == 40960 * 512);
  CHECK(r->grown());
  // The partition ends at the last usable sector of the 160 MiB disk; the filesystem fills it.
  auto j = exec::run({"sfdisk", "-J", disk.string()});
  REQUIRE(j);
  auto pt = nlohmann::json::parse(j->out)["partitiontable"];
  CHECK(pt["lastlba"].get<std::uint64_t>() == 160 * k_mib / 512 - 34);
  for (const auto& p : pt["partitions"]) {
    if (p["node"].get<std::string>().ends_with("raw1")) {
      CHECK(p["start"].get<std::uint64_t>() + p["size"].get<std::uint64_t>() - 1 == 160 * k_mib / 512 - 34);
      CHECK(r->new_bytes == p["size"].get<std::uint64_t>() * 512 / 4096 * 4096);
    }
  }
  auto fs = image::Ext4Fs::open(disk, r->offset, false);
  REQUIRE(fs);
  CHECK(fs->size_bytes() == r->new_bytes);
  auto host = fs->read_file("/etc/hostname", 100);
  REQUIRE(host);
  CHECK(*host == "ubuntu\n");
  // BOOT (partition 16) is untouched and still clean.
  run({"e2fsck", "-fn", fmt::format("{}?offset={}", disk.string(), 20480 * 512)});

  // The same input gives the same bytes (E2FSPROGS_FAKE_TIME).
  auto again = image::grow_root_partition(copy, 1700000000);
  REQUIRE(again);
  CHECK(common::hash::sha256_file(copy).value() == common::hash::sha256_file(disk).value());
}

TEST_CASE("grow_root_partition refuses a root that is not last on the disk", "[grow]") {
  if (!have_tools()) {
    BINDER_SKIP_MISSING_TOOL("resize2fs");
  }
  auto dir = common::fs::TempDir::create("grow-test");
  REQUIRE(dir);
  auto disk = make_grow_disk(dir->path(), "root", false);
  stdfs::resize_file(disk, 96 * k_mib);
  auto r = image::grow_root_partition(disk, 1700000000);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == common::Errc::precondition);
  CHECK_THAT(r.error().message, Catch::Contains("not the last on the disk"));
}
