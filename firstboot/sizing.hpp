// The machine sizing: ONE function turns RAM, CPUs, the extra disk's size and the image's kubelet
// defaults into every size-dependent number of the node: the kubelet drop-in (maxPods, reserved,
// image GC), the k3s node CIDR size, and the BinderHub/mybinder chart values (LaunchQuota, dind,
// user pods, buildkit cache, imageCleaner, replicas). The k3s files and the chart values both read
// it; nothing else computes a size.
//
// Each rule is one row of one table (sizing.cpp `rules()`): name, value, rule text. The same rows
// are the `binder-firstboot render sizing` JSON and the README's sizing table
// (`render sizing --markdown-table`). The rules reproduce the real k3s members (2i2c and GESIS:
// 48 vCPU / 192 GB, maxPods 300, dind 4 CPU/12Gi requests and 8/16Gi limits, total_quota 300 and
// 180, imageCleaner off because the buildkit pruner cleans) and scale down to small test VMs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "firstboot/env.hpp"
#include "firstboot/metadata/member.hpp"

namespace binder::firstboot {

struct SizingRow {
  std::string name;   // "kubelet.maxPods"
  std::string value;  // "336"
  std::string rule;   // how the value follows from the machine
};

struct SizingInputs {
  double ram_gib = 1;
  int cpus = 1;
  double extra_disk_gib = 0;  // 0: no extra disk (dind on the root disk)
  bool extra_disk = false;    // an extra disk is in use (its size may be unknown: 0)
  double max_pods_per_gib = 1.75;
  std::string max_pods_per_gib_source = "built-in default";
  int image_gc_high = 40;
  int image_gc_low = 20;
  bool server = true;  // agents do not choose the node CIDR size
};

struct Sizing {
  SizingInputs in;
  // kubelet drop-in and k3s
  int max_pods = 0;
  int node_cidr_mask_size = 24;
  int kube_reserved_cpu_m = 0;
  std::int64_t kube_reserved_memory_mi = 0;
  int system_reserved_cpu_m = 0;
  std::int64_t system_reserved_memory_mi = 0;
  int image_gc_high = 40, image_gc_low = 20;
  // pods
  int system_pods = 0;
  int user_pods_schedulable = 0;
  int total_quota = 0;
  // dind
  bool extra_disk = false;
  std::string dind_host_lib_dir;
  std::string dind_cpu_request, dind_cpu_limit, dind_memory_request, dind_memory_limit;
  // user pods
  std::string user_memory_guarantee = "450M", user_memory_limit;
  double user_cpu_guarantee = 0.01, user_cpu_limit = 1;
  // image and build-cache cleaning
  std::string buildkit_cache_size;            // mybinder chart buildkitPruner.buildkitCacheSize
  std::int64_t image_cleaner_high_bytes = 0;  // binderhub chart imageCleaner (standalone)
  std::int64_t image_cleaner_low_bytes = 0;
  int binderhub_replicas = 1;
  int harbor_replicas = 1;
  std::string prometheus_volume;

  std::vector<SizingRow> rows;  // every rule with its value, in table order

  // {"machine": {...inputs}, "rules": [{"name","value","rule"}, ...]}
  nlohmann::json to_json() const;
  // The value of the row `name` ("" when there is none).
  std::string value(std::string_view name) const;
};

// Applies every rule of the table. RAM and CPU counts below 1 are treated as 1.
Sizing size_machine(const SizingInputs& inputs);
// The inputs of a machine: facts (RAM, CPUs, extra disk and its size, the image's kubelet
// defaults) and the member (node.max_pods_per_gib overrides the image's; node.role).
SizingInputs sizing_inputs(const MachineFacts& facts, const Member& member);
Sizing size_machine(const MachineFacts& facts, const Member& member);

// The README table: one row per rule, one column per machine (header "8 GiB / 2 CPU / no disk").
struct SizingColumn {
  double ram_gib;
  int cpus;
  double extra_disk_gib;  // 0: none
};
std::string sizing_markdown_table(const std::vector<SizingColumn>& machines);
// The machines the README documents: 8/2/none, 32/8/200, 92/24/300, 192/48/1024.
const std::vector<SizingColumn>& readme_sizing_machines();

}  // namespace binder::firstboot
