// Machine-size rules: the numbers of the real members come out, small VMs still get a quota,
// and everything grows with the machine.
#include "firstboot/render/sizing.hpp"

#include <catch2/catch.hpp>

#include "firstboot/render/charts.hpp"
#include "firstboot/render/mybinder_files.hpp"
#include "support/firstboot/render_fixtures.hpp"

using namespace binder::firstboot::render;
using namespace binder::firstboot::render::fixtures;

TEST_CASE("sizing: a 48 CPU / 192 GiB machine gets the 2i2c member's numbers", "[render][sizing]") {
  auto s = size_machine(machine(192, 48), example_member());
  CHECK(s.max_pods == 336);
  CHECK(s.dind_cpu_request == "4");
  CHECK(s.dind_memory_request == "12Gi");
  CHECK(s.dind_cpu_limit == "8");
  CHECK(s.dind_memory_limit == "16Gi");
  CHECK(s.total_quota == 306);  // 2i2c runs 300
  CHECK(s.binderhub_replicas == 2);
  CHECK(s.harbor_replicas == 2);
  CHECK(s.user_memory_limit == "2G");
}

TEST_CASE("sizing: a small test VM still gets a positive quota and minimal dind", "[render][sizing]") {
  auto s = size_machine(machine(4, 2), example_member());
  CHECK(s.max_pods == 20);  // the kubelet's minimum (one rule now: k3s's own pods need room)
  CHECK(s.total_quota >= 1);
  CHECK(s.dind_cpu_request == "0.5");
  CHECK(s.dind_memory_request == "1Gi");
  CHECK(s.dind_cpu_limit == "1");
  CHECK(s.dind_memory_limit == "2Gi");
  CHECK(s.user_memory_limit == "1G");
  CHECK(s.user_cpu_limit == 0.5);
  CHECK(s.binderhub_replicas == 1);
}

TEST_CASE("sizing: quota and dind resources never shrink as the machine grows", "[render][sizing]") {
  int last_quota = 0;
  int last_dind = 0;
  for (int ram : {2, 4, 8, 16, 32, 64, 92, 128, 192, 256, 512}) {
    auto s = size_machine(machine(ram, ram / 4 + 1), example_member());
    INFO("RAM " << ram);
    CHECK(s.total_quota >= last_quota);
    int dind = std::stoi(s.dind_memory_request);
    CHECK(dind >= last_dind);
    last_quota = s.total_quota;
    last_dind = dind;
  }
}

TEST_CASE("sizing: max pods follow the metadata factor, the extra disk is reported", "[render][sizing]") {
  auto member = example_member();
  member.node.max_pods_per_gib = 1.0;
  auto s = size_machine(machine(64, 16, true), member);
  CHECK(s.max_pods == 64);
  CHECK(s.extra_disk);
  CHECK(s.value("dind.hostLibDir") == "/mnt/disk/dind");
}

TEST_CASE("sizing: the chart values carry the sizing's numbers", "[render][sizing]") {
  auto m = example_member();
  auto f = machine(192, 48, true);
  f.extra_disk_bytes = 1024ull << 30;
  auto s = size_machine(f, m);
  auto cfg = mybinder_config(m, s);
  CHECK(cfg["binderhub"]["config"]["LaunchQuota"]["total_quota"] == 306);
  CHECK(cfg["binderhub"]["imageCleaner"]["enabled"] == false);
  CHECK(cfg["buildkitPruner"]["buildkitCacheSize"] == "512GB");
  CHECK(cfg["binderhub"]["dind"]["resources"]["requests"]["memory"] == "12Gi");
  auto standalone = example_member();
  standalone.mode = binder::firstboot::Mode::standalone;
  auto v = binderhub_values(standalone, s, SecretsView{});
  CHECK(v.values["imageCleaner"]["enabled"] == true);
  CHECK(v.values["imageCleaner"]["imageGCThresholdHigh"] == 439000000000);  // 40% of 1 TiB
  CHECK(v.values["config"]["LaunchQuota"]["total_quota"] == 306);
}
