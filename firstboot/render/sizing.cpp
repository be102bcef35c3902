// The sizing rules (see sizing.hpp for the table and where the numbers come from).
#include "firstboot/render/sizing.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace binder::firstboot::render {

namespace {

constexpr double k_user_guarantee_gib = 450e6 / (1024.0 * 1024.0 * 1024.0);

std::string cpu_string(double cpu) {
  return cpu == std::floor(cpu) ? fmt::format("{}", static_cast<int>(cpu)) : fmt::format("{}", cpu);
}

}  // namespace

Sizing size_machine(const MachineFacts& facts, const Member& member) {
  Sizing s;
  s.ram_gib = std::max(1.0, facts.ram_gib());
  s.cpus = std::max(1, facts.cpus);
  s.extra_disk = !facts.extra_disk.empty();
  const double r = s.ram_gib;
  const int c = s.cpus;
  s.max_pods = static_cast<int>(std::floor(member.node.max_pods_per_gib * r));
  s.system_pods = std::min(30, s.max_pods / 2);

  double dind_cpu_req = std::max(0.5, std::floor(c / 12.0 * 2.0) / 2.0);
  int dind_mem_req = std::max(1, static_cast<int>(std::floor(r / 16.0)));
  s.dind_cpu_request = cpu_string(dind_cpu_req);
  s.dind_cpu_limit = cpu_string(std::max(1, c / 6));
  s.dind_memory_request = fmt::format("{}Gi", dind_mem_req);
  s.dind_memory_limit = fmt::format("{}Gi", std::max(2, static_cast<int>(std::floor(r / 12.0))));

  s.user_memory_limit = r >= 16 ? "2G" : "1G";
  s.user_cpu_limit = c >= 4 ? 1.0 : 0.5;

  double reserved = 4.0 + 0.05 * r;
  int by_memory = static_cast<int>(std::floor((r - reserved - dind_mem_req) / k_user_guarantee_gib));
  s.total_quota = std::max(1, std::min(s.max_pods - s.system_pods, by_memory));

  bool big = c >= 32 && r >= 128;
  s.binderhub_replicas = big ? 2 : 1;
  s.harbor_replicas = big ? 2 : 1;
  s.prometheus_volume = r >= 128 ? "50Gi" : "20Gi";
  return s;
}

nlohmann::json Sizing::to_json() const {
  return {
      {"machine", {{"ram_gib", ram_gib}, {"cpus", cpus}, {"extra_disk", extra_disk}}},
      {"max_pods", {{"value", max_pods}, {"rule", "floor(node.max_pods_per_gib x RAM GiB)"}}},
      {"system_pods", {{"value", system_pods}, {"rule", "min(30, max_pods / 2)"}}},
      {"total_quota",
       {{"value", total_quota},
        {"rule", "max(1, min(max_pods - system_pods, floor((RAM - (4 GiB + 5% RAM) - dind memory request) / 450M)))"}}},
      {"dind",
       {{"requests", {{"cpu", dind_cpu_request}, {"memory", dind_memory_request}}},
        {"limits", {{"cpu", dind_cpu_limit}, {"memory", dind_memory_limit}}},
        {"rule", "requests cpu max(0.5, CPUs/12), memory max(1, RAM/16) Gi; limits cpu max(1, CPUs/6), memory max(2, RAM/12) Gi"},
        {"hostLibDir", extra_disk ? "/mnt/disk/dind" : "/var/lib/dind"}}},
      {"user_pods",
       {{"memory", {{"guarantee", user_memory_guarantee}, {"limit", user_memory_limit}}},
        {"cpu", {{"guarantee", user_cpu_guarantee}, {"limit", user_cpu_limit}}},
        {"rule", "guarantee 450M/0.01 CPU; limit 2G (1G under 16 GiB) / 1 CPU (0.5 under 4 CPUs)"}}},
      {"replicas", {{"binderhub", binderhub_replicas}, {"harbor_core_registry", harbor_replicas},
                    {"rule", "2 on >= 32 CPUs and >= 128 GiB RAM, else 1"}}},
      {"prometheus_volume", prometheus_volume},
  };
}

}  // namespace binder::firstboot::render
