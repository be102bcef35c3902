// The sizing table (see sizing.hpp). Rules run in table order; a rule may use the values of the
// rows above it.
#include "firstboot/sizing.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

namespace binder::firstboot {

namespace {

constexpr double k_gib = 1024.0 * 1024.0 * 1024.0;
constexpr double k_user_guarantee_gib = 450e6 / k_gib;  // mybinder values.yaml: 450M
constexpr double k_platform_gib = 3.0;  // Harbor, hub, binder, proxy, traefik, cert-manager, prometheus
constexpr int k_pods_per_24 = 250;      // a /24 node CIDR: 254 pod addresses
constexpr int k_pods_per_23 = 500;      // a /23: 510

double tiered(double amount, const std::vector<std::pair<double, double>>& tiers) {
  double total = 0;
  double start = 0;
  for (const auto& [end, rate] : tiers) {
    if (amount <= start)
      break;
    total += (std::min(amount, end) - start) * rate;
    start = end;
  }
  return total;
}

std::string num(double v) {
  return v == std::floor(v) ? fmt::format("{}", static_cast<long long>(v)) : fmt::format("{}", v);
}

struct Rule {
  const char* name;
  const char* rule;
  std::function<std::string(Sizing&)> apply;  // sets its field(s), returns the shown value
};

const std::vector<Rule>& rules() {
  static const std::vector<Rule> k_rules = {
      {"max_pods_per_gib",
       "metadata node.max_pods_per_gib, else the image profile's kubelet.max_pods_per_gib "
       "(/etc/binder-image/build.json), else 1.75 (runbook: maxPods = 1.75 x RAM GB)",
       [](Sizing& s) { return num(s.in.max_pods_per_gib); }},
      {"kubelet.maxPods",
       "floor(max_pods_per_gib x RAM GiB), at least 20 (k3s's own pods fit on small VMs), at most "
       "500 (a /23 node CIDR has 510 pod addresses; 2i2c runs 300 at 192 GB); on an agent at most "
       "250, as its pod CIDR size is the server's choice",
       [](Sizing& s) {
         // The epsilon keeps 1.75 x 16 = 28 from flooring to 27 on binary rounding.
         int want = static_cast<int>(std::floor(s.in.max_pods_per_gib * s.in.ram_gib + 1e-9));
         s.max_pods = std::clamp(want, 20, s.in.server ? k_pods_per_23 : k_pods_per_24);
         return num(s.max_pods);
       }},
      {"k3s.node-cidr-mask-size",
       "24 (the k3s default, 254 pod addresses per node) while maxPods <= 250, else 23 (510): "
       "kube-controller-manager-arg on the server, written before k3s's first start; cluster-cidr "
       "stays 10.42.0.0/16 (inside mybinder's 10/8 policies; 128 nodes at /23)",
       [](Sizing& s) {
         s.node_cidr_mask_size = s.max_pods <= k_pods_per_24 ? 24 : 23;
         return s.in.server ? num(s.node_cidr_mask_size) : std::string("server's");
       }},
      {"kubelet.kubeReserved.memory",
       "GKE tiers: 25% of the first 4 GiB + 20% of the next 4 + 10% of the next 8 + 6% of the next "
       "112 + 2% above 128 GiB (Mi, rounded up)",
       [](Sizing& s) {
         double gib = tiered(s.in.ram_gib, {{4, 0.25}, {8, 0.20}, {16, 0.10}, {128, 0.06}, {1e12, 0.02}});
         s.kube_reserved_memory_mi = static_cast<std::int64_t>(std::ceil(gib * 1024 - 1e-9));
         return fmt::format("{}Mi", s.kube_reserved_memory_mi);
       }},
      {"kubelet.kubeReserved.cpu",
       "GKE tiers: 6% of the first core + 1% of the second + 0.5% of cores 3-4 + 0.25% of every "
       "further core (m, rounded up)",
       [](Sizing& s) {
         double cpu = tiered(s.in.cpus, {{1, 0.06}, {2, 0.01}, {4, 0.005}, {1e9, 0.0025}});
         s.kube_reserved_cpu_m = static_cast<int>(std::ceil(cpu * 1000 - 1e-9));
         return fmt::format("{}m", s.kube_reserved_cpu_m);
       }},
      {"kubelet.systemReserved.memory", "5% of RAM within [128Mi, 2Gi]",
       [](Sizing& s) {
         s.system_reserved_memory_mi = std::clamp<std::int64_t>(
             static_cast<std::int64_t>(std::ceil(s.in.ram_gib * 1024 * 0.05 - 1e-9)), 128, 2048);
         return fmt::format("{}Mi", s.system_reserved_memory_mi);
       }},
      {"kubelet.systemReserved.cpu", "50m per core within [100m, 1000m]",
       [](Sizing& s) {
         s.system_reserved_cpu_m = std::clamp(50 * s.in.cpus, 100, 1000);
         return fmt::format("{}m", s.system_reserved_cpu_m);
       }},
      {"kubelet.imageGCHighThresholdPercent",
       "the image profile's kubelet.image_gc_high (default 40: dind shares the root disk, spec 5.1)",
       [](Sizing& s) { return num(s.image_gc_high = s.in.image_gc_high); }},
      {"kubelet.imageGCLowThresholdPercent", "the image profile's kubelet.image_gc_low (default 20)",
       [](Sizing& s) { return num(s.image_gc_low = s.in.image_gc_low); }},
      {"pods.system",
       "min(30, maxPods / 2): pods kept free for k3s, Harbor, BinderHub, ingress, monitoring and "
       "build pods",
       [](Sizing& s) { return num(s.system_pods = std::min(30, s.max_pods / 2)); }},
      {"pods.user_schedulable", "maxPods - pods.system",
       [](Sizing& s) { return num(s.user_pods_schedulable = s.max_pods - s.system_pods); }},
      {"dind.resources.requests.cpu", "max(0.5, CPUs / 12) in 0.5 steps (2i2c: 4 at 48)",
       [](Sizing& s) {
         return s.dind_cpu_request = num(std::max(0.5, std::floor(s.in.cpus / 12.0 * 2.0) / 2.0));
       }},
      {"dind.resources.requests.memory", "max(1, floor(RAM GiB / 16)) Gi (2i2c: 12Gi at 192)",
       [](Sizing& s) {
         return s.dind_memory_request =
                    fmt::format("{}Gi", std::max(1, static_cast<int>(std::floor(s.in.ram_gib / 16.0))));
       }},
      {"dind.resources.limits.cpu", "max(1, floor(CPUs / 6)) (2i2c: 8 at 48)",
       [](Sizing& s) { return s.dind_cpu_limit = num(std::max(1, s.in.cpus / 6)); }},
      {"dind.resources.limits.memory", "max(2, floor(RAM GiB / 12)) Gi (2i2c: 16Gi at 192)",
       [](Sizing& s) {
         return s.dind_memory_limit =
                    fmt::format("{}Gi", std::max(2, static_cast<int>(std::floor(s.in.ram_gib / 12.0))));
       }},
      {"dind.hostLibDir", "/mnt/disk/dind on the extra disk, else /var/lib/dind (root disk)",
       [](Sizing& s) {
         s.extra_disk = s.in.extra_disk;
         return s.dind_host_lib_dir = s.in.extra_disk ? "/mnt/disk/dind" : "/var/lib/dind";
       }},
      {"singleuser.memory.guarantee", "450M (mybinder values.yaml)",
       [](Sizing& s) { return s.user_memory_guarantee = "450M"; }},
      {"singleuser.memory.limit", "2G (mybinder values.yaml); 1G under 16 GiB RAM",
       [](Sizing& s) { return s.user_memory_limit = s.in.ram_gib >= 16 ? "2G" : "1G"; }},
      {"singleuser.cpu.guarantee", "0.01 (mybinder values.yaml)",
       [](Sizing& s) { return num(s.user_cpu_guarantee = 0.01); }},
      {"singleuser.cpu.limit", "1 (mybinder values.yaml); 0.5 under 4 CPUs",
       [](Sizing& s) { return num(s.user_cpu_limit = s.in.cpus >= 4 ? 1.0 : 0.5); }},
      {"LaunchQuota.total_quota",
       "max(1, min(pods.user_schedulable, floor((RAM - kubeReserved - systemReserved - 100Mi "
       "eviction - 3 GiB platform pods - dind memory request) / 450M))): never more user pods than "
       "the node can schedule or hold at their guarantee (2i2c: 300, GESIS: 180 at 192 GB)",
       [](Sizing& s) {
         double free_gib =
             s.in.ram_gib -
             static_cast<double>(s.kube_reserved_memory_mi + s.system_reserved_memory_mi + 100) / 1024.0 -
             k_platform_gib - std::stod(s.dind_memory_request);
         int by_memory = static_cast<int>(std::floor(free_gib / k_user_guarantee_gib));
         s.total_quota = std::max(1, std::min(s.user_pods_schedulable, by_memory));
         return num(s.total_quota);
       }},
      {"buildkitPruner.buildkitCacheSize",
       "half the extra disk in GB (docker units: GB = GiB), floor, at least 10; 25GB (mybinder staging's) when "
       "dind is on the root disk or the disk size is unknown; federation only (mybinder chart)",
       [](Sizing& s) {
         int gb = s.in.extra_disk && s.in.extra_disk_gib > 0
                      ? std::max(10, static_cast<int>(std::floor(s.in.extra_disk_gib / 2)))
                      : 25;
         return s.buildkit_cache_size = fmt::format("{}GB", gb);
       }},
      {"imageCleaner (federation)",
       "off: the mybinder chart's buildkit pruner cleans dind (hetzner-2i2c, hetzner-gesis)",
       [](Sizing&) { return std::string("off"); }},
      {"imageCleaner (standalone)",
       "on (the binderhub chart has no buildkit pruner), absolute thresholds: high 40% / low 10% "
       "of the extra disk; without one mybinder values.yaml's 40e9 / 10e9 bytes",
       [](Sizing& s) {
         if (s.in.extra_disk && s.in.extra_disk_gib > 0) {
           double bytes = s.in.extra_disk_gib * k_gib;
           s.image_cleaner_high_bytes = static_cast<std::int64_t>(std::floor(bytes * 0.4 / 1e9)) * 1000000000;
           s.image_cleaner_low_bytes = static_cast<std::int64_t>(std::floor(bytes * 0.1 / 1e9)) * 1000000000;
         } else {
           s.image_cleaner_high_bytes = 40000000000;
           s.image_cleaner_low_bytes = 10000000000;
         }
         return fmt::format("on, {}e9 / {}e9 bytes", s.image_cleaner_high_bytes / 1000000000,
                            s.image_cleaner_low_bytes / 1000000000);
       }},
      {"replicas.binderhub", "2 on >= 32 CPUs and >= 128 GiB RAM (2i2c, GESIS), else 1",
       [](Sizing& s) { return num(s.binderhub_replicas = s.in.cpus >= 32 && s.in.ram_gib >= 128 ? 2 : 1); }},
      {"replicas.harbor_core_registry", "as replicas.binderhub",
       [](Sizing& s) { return num(s.harbor_replicas = s.binderhub_replicas); }},
      {"prometheus.server.persistentVolume.size", "50Gi on >= 128 GiB RAM (2i2c, GESIS), else 20Gi (BIDS)",
       [](Sizing& s) { return s.prometheus_volume = s.in.ram_gib >= 128 ? "50Gi" : "20Gi"; }},
  };
  return k_rules;
}

std::string machine_label(const SizingColumn& m) {
  std::string disk = m.extra_disk_gib <= 0 ? "no disk" : fmt::format("{} GiB disk", num(m.extra_disk_gib));
  return fmt::format("{} GiB / {} CPU / {}", num(m.ram_gib), m.cpus, disk);
}

}  // namespace

Sizing size_machine(const SizingInputs& inputs) {
  Sizing s;
  s.in = inputs;
  s.in.ram_gib = std::max(1.0, s.in.ram_gib);
  s.in.cpus = std::max(1, s.in.cpus);
  s.in.extra_disk_gib = std::max(0.0, s.in.extra_disk_gib);
  for (const auto& r : rules()) {
    std::string value = r.apply(s);
    s.rows.push_back({r.name, std::move(value), r.rule});
  }
  return s;
}

SizingInputs sizing_inputs(const MachineFacts& facts, const Member& member) {
  SizingInputs in;
  in.ram_gib = facts.ram_gib();
  in.cpus = facts.cpus;
  in.extra_disk = !facts.extra_disk.empty();
  in.extra_disk_gib = in.extra_disk ? static_cast<double>(facts.extra_disk_bytes) / k_gib : 0;
  if (member.node.max_pods_per_gib) {
    in.max_pods_per_gib = *member.node.max_pods_per_gib;
    in.max_pods_per_gib_source = "metadata node.max_pods_per_gib";
  } else {
    in.max_pods_per_gib = facts.kubelet.max_pods_per_gib;
    in.max_pods_per_gib_source = facts.kubelet.source;
  }
  in.image_gc_high = facts.kubelet.image_gc_high;
  in.image_gc_low = facts.kubelet.image_gc_low;
  in.server = member.node.role == NodeRole::server;
  return in;
}

Sizing size_machine(const MachineFacts& facts, const Member& member) {
  return size_machine(sizing_inputs(facts, member));
}

std::string Sizing::value(std::string_view name) const {
  for (const auto& r : rows) {
    if (r.name == name)
      return r.value;
  }
  return {};
}

nlohmann::json Sizing::to_json() const {
  nlohmann::json rules_json = nlohmann::json::array();
  for (const auto& r : rows) {
    rules_json.push_back({{"name", r.name}, {"value", r.value}, {"rule", r.rule}});
  }
  return {
      {"machine",
       {{"ram_gib", in.ram_gib},
        {"cpus", in.cpus},
        {"extra_disk", in.extra_disk},
        {"extra_disk_gib", in.extra_disk_gib},
        {"max_pods_per_gib_from", in.max_pods_per_gib_source},
        {"role", in.server ? "server" : "agent"}}},
      {"rules", rules_json},
  };
}

std::string sizing_markdown_table(const std::vector<SizingColumn>& machines) {
  std::vector<Sizing> sized;
  for (const auto& m : machines) {
    SizingInputs in;
    in.ram_gib = m.ram_gib;
    in.cpus = m.cpus;
    in.extra_disk = m.extra_disk_gib > 0;
    in.extra_disk_gib = m.extra_disk_gib;
    sized.push_back(size_machine(in));
  }
  std::string out = "| Setting |";
  std::string sep = "|---|";
  for (const auto& m : machines) {
    out += " " + machine_label(m) + " |";
    sep += "---|";
  }
  out += " Rule |\n" + sep + "---|\n";
  const auto& table = rules();
  for (size_t i = 0; i < table.size(); ++i) {
    out += fmt::format("| `{}` |", table[i].name);
    for (const auto& s : sized)
      out += " " + s.rows[i].value + " |";
    out += fmt::format(" {} |\n", table[i].rule);
  }
  return out;
}

const std::vector<SizingColumn>& readme_sizing_machines() {
  static const std::vector<SizingColumn> k_machines = {
      {8, 2, 0}, {32, 8, 200}, {92, 24, 300}, {192, 48, 1024}};
  return k_machines;
}

}  // namespace binder::firstboot
