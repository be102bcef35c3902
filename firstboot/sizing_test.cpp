// The one sizing rule: every README machine renders with consistent figures (quota within the
// schedulable pods, maxPods within the node CIDR, buildkit cache from the disk size), the real
// members' numbers come out, and README.md's table is the generated one.
#include "firstboot/sizing.hpp"

#include <cstdlib>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"

using namespace binder::firstboot;

namespace {

Sizing sized(double gib, int cpus, double disk_gib = 0) {
  SizingInputs in;
  in.ram_gib = gib;
  in.cpus = cpus;
  in.extra_disk = disk_gib > 0;
  in.extra_disk_gib = disk_gib;
  return size_machine(in);
}

int pod_addresses(int mask) { return (1 << (32 - mask)) - 2; }

}  // namespace

TEST_CASE("sizing: every README machine has consistent figures", "[sizing]") {
  for (const auto& m : readme_sizing_machines()) {
    auto s = sized(m.ram_gib, m.cpus, m.extra_disk_gib);
    INFO(m.ram_gib << " GiB / " << m.cpus << " CPU / " << m.extra_disk_gib << " GiB disk");
    CHECK(s.total_quota >= 1);
    CHECK(s.total_quota <= s.user_pods_schedulable);
    CHECK(s.user_pods_schedulable == s.max_pods - s.system_pods);
    CHECK(s.max_pods <= pod_addresses(s.node_cidr_mask_size) - 4);  // a few addresses spare
    CHECK((s.node_cidr_mask_size == 24) == (s.max_pods <= 250));
    CHECK(s.image_cleaner_low_bytes < s.image_cleaner_high_bytes);
    CHECK(s.rows.size() == sized(8, 2).rows.size());
    for (const auto& r : s.rows) {
      INFO(r.name);
      CHECK(!r.value.empty());
      CHECK(!r.rule.empty());
      CHECK(s.value(r.name) == r.value);
    }
  }
}

TEST_CASE("sizing: the README machines' key figures", "[sizing]") {
  auto small = sized(8, 2);
  CHECK(small.max_pods == 20);  // floor(14) lifted to the minimum
  CHECK(small.node_cidr_mask_size == 24);
  CHECK(small.total_quota == 4);  // memory-bound: (8 - 1844Mi - 410Mi - 100Mi - 3 - 1) / 450M
  CHECK(small.dind_host_lib_dir == "/var/lib/dind");
  CHECK(small.buildkit_cache_size == "25GB");
  CHECK(small.image_cleaner_high_bytes == 40000000000);

  auto mid = sized(32, 8, 200);
  CHECK(mid.max_pods == 56);
  CHECK(mid.total_quota == 28);  // pod-bound: 56 - 28 system pods
  CHECK(mid.buildkit_cache_size == "100GB");
  CHECK(mid.dind_host_lib_dir == "/mnt/disk/dind");
  CHECK(mid.image_cleaner_high_bytes == 85000000000);  // 40% of 200 GiB
  CHECK(mid.image_cleaner_low_bytes == 21000000000);

  auto bids = sized(92, 24, 300);
  CHECK(bids.max_pods == 161);
  CHECK(bids.total_quota == 131);
  CHECK(bids.buildkit_cache_size == "150GB");
  CHECK(bids.prometheus_volume == "20Gi");

  auto big = sized(192, 48, 1024);  // hetzner-2i2c / hetzner-gesis: CCX63
  CHECK(big.max_pods == 336);
  CHECK(big.node_cidr_mask_size == 23);  // lifted above 250 as 2i2c's maxPods 300 needs
  CHECK(big.total_quota == 306);         // 2i2c runs 300: never above 336 - 30 schedulable
  CHECK(big.dind_cpu_request == "4");
  CHECK(big.dind_memory_request == "12Gi");
  CHECK(big.dind_cpu_limit == "8");
  CHECK(big.dind_memory_limit == "16Gi");
  CHECK(big.buildkit_cache_size == "512GB");
  CHECK(big.binderhub_replicas == 2);
  CHECK(big.harbor_replicas == 2);
  CHECK(big.prometheus_volume == "50Gi");
  CHECK(big.value("imageCleaner (federation)") == "off");
}

TEST_CASE("sizing: the buildkit cache follows the disk size, unknown size is the small default", "[sizing]") {
  CHECK(sized(32, 8, 20).buildkit_cache_size == "10GB");
  CHECK(sized(32, 8, 500).buildkit_cache_size == "250GB");
  SizingInputs in;
  in.ram_gib = 32;
  in.cpus = 8;
  in.extra_disk = true;  // in use, size not known
  auto s = size_machine(in);
  CHECK(s.buildkit_cache_size == "25GB");
  CHECK(s.dind_host_lib_dir == "/mnt/disk/dind");
}

TEST_CASE("sizing: quota never exceeds the schedulable pods, at any size", "[sizing]") {
  int last_quota = 0;
  for (int ram : {1, 2, 4, 8, 16, 32, 64, 92, 128, 192, 256, 384, 512, 1024}) {
    auto s = sized(ram, ram / 4 + 1);
    INFO("RAM " << ram);
    CHECK(s.total_quota <= s.user_pods_schedulable);
    CHECK(s.total_quota >= last_quota);
    CHECK(s.max_pods <= pod_addresses(s.node_cidr_mask_size));
    last_quota = s.total_quota;
  }
}

TEST_CASE("sizing: inputs from facts and member: metadata factor beats the image's", "[sizing]") {
  MachineFacts f;
  f.ram_bytes = 64ull << 30;
  f.cpus = 16;
  f.extra_disk = "/dev/vdb";
  f.extra_disk_bytes = 400ull << 30;
  f.kubelet = KubeletDefaults{2.0, 60, 30, "test image"};
  Member m;
  auto s = size_machine(f, m);
  CHECK(s.max_pods == 128);
  CHECK(s.image_gc_high == 60);
  CHECK(s.image_gc_low == 30);
  CHECK(s.buildkit_cache_size == "200GB");
  CHECK(s.to_json()["machine"]["max_pods_per_gib_from"] == "test image");
  m.node.max_pods_per_gib = 1.0;
  s = size_machine(f, m);
  CHECK(s.max_pods == 64);
  CHECK(s.to_json()["machine"]["max_pods_per_gib_from"] == "metadata node.max_pods_per_gib");
  CHECK(s.to_json()["rules"][1]["name"] == "kubelet.maxPods");
  CHECK(s.to_json()["rules"][1]["value"] == "64");
}

TEST_CASE("sizing: README.md's sizing table is the generated one", "[sizing]") {
  const std::string begin = "<!-- sizing-table:begin";
  const std::string end = "<!-- sizing-table:end -->";
  const auto readme = std::filesystem::path(BINDER_SOURCE_DIR) / "README.md";
  auto text = binder::common::fs::read_file(readme);
  REQUIRE(text);
  auto b = text->find(begin);
  REQUIRE(b != std::string::npos);
  b = text->find('\n', b) + 1;
  auto e = text->find(end, b);
  REQUIRE(e != std::string::npos);
  // Regenerate: BINDER_UPDATE_GOLDEN=1 build/firstboot/binder_fb_core_tests "[sizing]" (or paste
  // `binder-firstboot render sizing --markdown-table` between the markers).
  const std::string table = sizing_markdown_table(readme_sizing_machines());
  if (std::getenv("BINDER_UPDATE_GOLDEN") != nullptr && text->substr(b, e - b) != table) {
    REQUIRE(binder::common::fs::write_file_atomic(readme, text->substr(0, b) + table + text->substr(e)));
    text = binder::common::fs::read_file(readme);
    REQUIRE(text);
  }
  CHECK(text->substr(b, e - b) == table);
}
