// The extra-disk rules against real block devices: loop devices over sparse files (root only;
// skipped otherwise). This sandbox has no udev and no partition nodes for loop devices, so the
// full partition->mkfs->mount flow is covered with a fake lsblk in host_steps_test.cpp; here the
// real tools check what the fake assumes: blkid/wipefs probes, our sfdisk script, and that a
// named disk with data is refused and left byte-for-byte untouched.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/hash.hpp"
#include "firstboot/host/disk_probe.hpp"
#include "firstboot/host/host_steps.hpp"
#include "support/firstboot/test_seams.hpp"
#include "support/skip.hpp"

using namespace binder::firstboot;
namespace fs = binder::common::fs;
namespace exec = binder::common::exec;

namespace {

// A loop device over a sparse file, detached on destruction.
struct Loop {
  fs::TempDir dir = *fs::TempDir::create("loopdisk");
  std::string device;
  explicit Loop(std::uint64_t size = 1ull << 30) {
    auto img = dir.path() / "disk.img";
    REQUIRE(exec::run_checked({"truncate", "-s", std::to_string(size), img.string()}));
    auto out = exec::run_checked({"losetup", "--find", "--show", img.string()});
    REQUIRE(out);
    device = out->out.substr(0, out->out.find('\n'));
  }
  ~Loop() {
    if (!device.empty()) {
      (void)exec::run({"losetup", "-d", device});
    }
  }
};

bool can_run() {
  return ::geteuid() == 0 && exec::find_program("losetup") && exec::find_program("mkfs.xfs") &&
         exec::find_program("sfdisk") && std::filesystem::exists("/dev/loop-control");
}

struct LiveTools {
  SystemCommandRunner runner;
  testing::FakeClock clock;
  MemoryOutputStore outputs;
  fs::TempDir root = *fs::TempDir::create("disk-root");
  Env env(Member m) { return Env(root.path(), std::move(m), {}, runner, clock, outputs); }
};

}  // namespace

TEST_CASE("disk: real probes see an empty loop disk as empty and a filesystem as data",
          "[disk][integration]") {
  if (!can_run()) {
    BINDER_SKIP("needs root, losetup, mkfs.xfs and /dev/loop-control: skipped");
  }
  Loop loop;
  LiveTools t;
  Env env = t.env({});
  auto devs = host::probe_devices(env, loop.device);
  REQUIRE(devs);
  REQUIRE(devs->size() == 1);
  CHECK(host::classify((*devs)[0]).state == host::DiskState::empty);
  CHECK(host::probe_signatures(env, loop.device) == false);

  REQUIRE(exec::run_checked({"mkfs.xfs", "-q", "-L", "someones", loop.device}));
  CHECK(host::probe_signatures(env, loop.device) == true);
}

TEST_CASE("disk: our sfdisk script makes one GPT partition named binder-data", "[disk][integration]") {
  if (!can_run()) {
    BINDER_SKIP("needs root and loop devices: skipped");
  }
  Loop loop;
  REQUIRE(exec::run_checked({"sfdisk", "--quiet", "--wipe", "always", loop.device},
                            {.stdin_data = host::sfdisk_script()}));
  auto dump = exec::run_checked({"sfdisk", "--json", loop.device});
  REQUIRE(dump);
  auto j = nlohmann::json::parse(dump->out);
  CHECK(j["partitiontable"]["label"] == "gpt");
  REQUIRE(j["partitiontable"]["partitions"].size() == 1);
  CHECK(j["partitiontable"]["partitions"][0]["name"] == "binder-data");
  CHECK(j["partitiontable"]["partitions"][0]["type"] == "0FC63DAF-8483-4772-8E79-3D69D8477DE4");
  LiveTools t;
  Env env = t.env({});
  CHECK(host::probe_signatures(env, loop.device) == true);  // a partitioned disk is never "empty"
}

TEST_CASE("disk: a named disk holding data is refused and untouched", "[disk][integration]") {
  if (!can_run()) {
    BINDER_SKIP("needs root and loop devices: skipped");
  }
  Loop loop(512ull << 20);
  REQUIRE(exec::run_checked({"mkfs.xfs", "-q", "-L", "precious", loop.device}));
  auto before = binder::common::hash::sha256_file(loop.device);
  REQUIRE(before);
  Member m;
  m.name = "example";
  m.node.extra_disk = {ExtraDiskSpec::Kind::device, loop.device};
  LiveTools t;
  Env env = t.env(m);
  auto r = host::make_extra_disk_step()->apply(env);
  REQUIRE(!r);
  CHECK(r.error().message.find("refusing to use '" + loop.device + "'") != std::string::npos);
  CHECK(binder::common::hash::sha256_file(loop.device) == *before);
  CHECK(!std::filesystem::exists(t.root.path() / "etc/fstab"));
}
