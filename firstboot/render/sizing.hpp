// Machine-size rules: how much of the VM BinderHub may use, derived from RAM and CPUs the same
// way for the HelmChart values and the mybinder config file. The rules reproduce what the
// existing k3s members run (2i2c: 48 vCPU/192 GB -> dind requests 4 CPU/12Gi, limits 8/16Gi,
// total_quota 300; BIDS 24 vCPU/92 GB) and scale down to small test VMs:
//
//   max_pods      = floor(node.max_pods_per_gib x RAM GiB)                (kubelet maxPods, §5.1)
//   system_pods   = min(30, max_pods / 2)     pods kept free for k3s, Harbor, BinderHub, builds
//   dind requests = cpu max(0.5, CPUs/12) (0.5 steps), memory max(1, floor(RAM/16)) Gi
//   dind limits   = cpu max(1, floor(CPUs/6)),         memory max(2, floor(RAM/12)) Gi
//   reserved      = 4 GiB + 5% of RAM         OS, k3s, Harbor, hub, traefik, cert-manager
//   user pods     = guarantee 450M / 0.01 CPU (mybinder values.yaml); limit 2G (1G under
//                   16 GiB RAM) / 1 CPU (0.5 under 4 CPUs)
//   total_quota   = max(1, min(max_pods - system_pods,
//                              floor((RAM - reserved - dind memory request) / 450M)))
//   replicas      = 2 for binderhub, harbor core and registry on >= 32 CPUs and >= 128 GiB, else 1
//   prometheus PV = 50Gi on >= 128 GiB, else 20Gi (mybinder config file only)
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "firstboot/env.hpp"
#include "firstboot/metadata/member.hpp"

namespace binder::firstboot::render {

struct Sizing {
  double ram_gib = 0;
  int cpus = 0;
  bool extra_disk = false;
  int max_pods = 0;
  int system_pods = 0;
  int total_quota = 0;
  std::string dind_cpu_request, dind_cpu_limit, dind_memory_request, dind_memory_limit;
  std::string user_memory_guarantee = "450M", user_memory_limit;
  double user_cpu_guarantee = 0.01, user_cpu_limit = 1;
  int binderhub_replicas = 1;
  int harbor_replicas = 1;
  std::string prometheus_volume;

  // Every number with the rule that produced it (the `sizing` render artifact).
  nlohmann::json to_json() const;
};

// Applies the rules above. RAM and CPU counts below 1 are treated as 1.
Sizing size_machine(const MachineFacts& facts, const Member& member);

}  // namespace binder::firstboot::render
