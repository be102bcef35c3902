#include "firstboot/host/disk_probe.hpp"

#include <catch2/catch.hpp>

#include "support/firstboot/test_seams.hpp"

using binder::firstboot::testing::TestRoot;
namespace host = binder::firstboot::host;

namespace {

// blkid answers as on a real VM; wipefs lists content signatures only.
binder::common::exec::Output answer(const std::vector<std::string>& argv, const std::string& blkid_out,
                                    int blkid_exit, const std::string& wipefs_out) {
  if (argv[0] == "blkid") {
    return {blkid_exit, 0, false, blkid_out, {}};
  }
  return {0, 0, false, wipefs_out, {}};
}

}  // namespace

TEST_CASE("disk probe: a fresh GPT partition (only PART_ENTRY_* keys) holds no data", "[disk]") {
  TestRoot t;
  t.runner.handler = [](const auto& argv, const auto&) {
    return answer(argv,
                  "DEVNAME=/dev/vdb1\nPART_ENTRY_SCHEME=gpt\nPART_ENTRY_NAME=binder-data\n"
                  "PART_ENTRY_UUID=1b2c\nPART_ENTRY_TYPE=0fc63daf-8483-4772-8e79-3d69d8477de4\n",
                  0, "");
  };
  auto r = host::probe_signatures(*t.env, "/dev/vdb1");
  REQUIRE(r);
  CHECK_FALSE(*r);
}

TEST_CASE("disk probe: a filesystem or partition table signature is data", "[disk]") {
  for (std::string key : {"TYPE=ext4", "PTTYPE=dos", "USAGE=filesystem"}) {
    TestRoot t;
    t.runner.handler = [key](const auto& argv, const auto&) {
      return answer(argv, "DEVNAME=/dev/vdb\n" + key + "\n", 0, "");
    };
    auto r = host::probe_signatures(*t.env, "/dev/vdb");
    REQUIRE(r);
    CHECK(*r);
  }
}

TEST_CASE("disk probe: a signature only wipefs sees is data", "[disk]") {
  TestRoot t;
  t.runner.handler = [](const auto& argv, const auto&) {
    return answer(argv, "", 2, "0x438 ext4 1234-5678\n");
  };
  auto r = host::probe_signatures(*t.env, "/dev/vdb");
  REQUIRE(r);
  CHECK(*r);
}
