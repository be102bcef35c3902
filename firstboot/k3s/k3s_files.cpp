// k3s file rendering and kubelet math. See k3s_files.hpp for the formulas.
#include "firstboot/k3s/k3s_files.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "common/fs.hpp"

namespace binder::firstboot::k3s {
namespace {

constexpr double k_gib = 1024.0 * 1024.0 * 1024.0;

// YAML double-quoted scalar (JSON strings are valid YAML).
std::string q(const std::string& s) { return nlohmann::json(s).dump(); }

double tiered(double amount, const std::vector<std::pair<double, double>>& tiers) {
  double total = 0;
  double start = 0;
  for (const auto& [end, rate] : tiers) {
    if (amount <= start) {
      break;
    }
    total += (std::min(amount, end) - start) * rate;
    start = end;
  }
  return total;
}

}  // namespace

KubeletSizing kubelet_sizing(std::uint64_t ram_bytes, int cpus, double factor) {
  KubeletSizing s;
  double gib = static_cast<double>(ram_bytes) / k_gib;
  // The epsilon keeps 1.75 x 16 = 28 from flooring to 27 on binary rounding.
  s.max_pods = std::clamp(static_cast<int>(std::floor(factor * gib + 1e-9)), 20, 250);
  double mem_gib = tiered(gib, {{4, 0.25}, {8, 0.20}, {16, 0.10}, {128, 0.06}, {1e12, 0.02}});
  s.kube_reserved_memory_mi = static_cast<std::int64_t>(std::ceil(mem_gib * 1024));
  double cpu = tiered(std::max(cpus, 1), {{1, 0.06}, {2, 0.01}, {4, 0.005}, {1e9, 0.0025}});
  s.kube_reserved_cpu_m = static_cast<int>(std::ceil(cpu * 1000 - 1e-9));
  s.system_reserved_memory_mi =
      std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(gib * 1024 * 0.05)), 128, 2048);
  s.system_reserved_cpu_m = std::clamp(50 * std::max(cpus, 1), 100, 1000);
  return s;
}

std::string render_kubelet_conf(const KubeletSizing& s) {
  return fmt::format(
      "# Written by binder-firstboot: sized for this machine (see k3s_files.hpp for the formula).\n"
      "apiVersion: kubelet.config.k8s.io/v1beta1\n"
      "kind: KubeletConfiguration\n"
      "maxPods: {}\n"
      "# Clean up images pulled by kubernetes anytime we are over\n"
      "# 40% disk usage until we hit 20% (dind uses the disk too)\n"
      "imageGCHighThresholdPercent: 40\n"
      "imageGCLowThresholdPercent: 20\n"
      "kubeReserved:\n  cpu: {}m\n  memory: {}Mi\n"
      "systemReserved:\n  cpu: {}m\n  memory: {}Mi\n",
      s.max_pods, s.kube_reserved_cpu_m, s.kube_reserved_memory_mi, s.system_reserved_cpu_m,
      s.system_reserved_memory_mi);
}

std::string node_name(const Env& env) {
  if (env.member.node.role == NodeRole::server) {
    return env.member.name;
  }
  auto id = common::fs::read_file_if_exists(env.path("/etc/machine-id"));
  std::string suffix;
  if (id && *id && (*id)->size() >= 8) {
    suffix = (*id)->substr(0, 8);
  } else {
    suffix = env.facts.public_ip;
    std::replace(suffix.begin(), suffix.end(), '.', '-');
    std::replace(suffix.begin(), suffix.end(), ':', '-');
  }
  return env.member.name + "-" + suffix;
}

std::string render_k3s_config(const Env& env) {
  std::string out = fmt::format("# Written by binder-firstboot for member '{}'. k3s reads it at start.\n"
                                "node-name: {}\n", env.member.name, q(node_name(env)));
  if (env.member.node.role == NodeRole::agent) {
    out += fmt::format("server: {}\ntoken: {}\n", q(env.member.node.server_url), q(env.member.node.token));
    return out;
  }
  out += "write-kubeconfig-mode: \"0600\"\ntls-san:\n";
  if (!env.facts.public_ip.empty()) {
    out += fmt::format("  - {}\n", q(env.facts.public_ip));
  }
  out += fmt::format("  - {}\n", q(env.member.fqdn()));
  if (!env.facts.public_ip.empty() && !env.facts.public_ip_on_nic) {
    // NAT / floating IP: the public address is not on a NIC. Advertise it as the node's external
    // IP (ServiceLB's LoadBalancer status, the node's ExternalIP) so traffic to the member's own
    // names does not depend on hairpin NAT.
    out += fmt::format("node-external-ip: {}\n", q(env.facts.public_ip));
  }
  if (env.member.mode == Mode::standalone && env.member.registry &&
      env.member.registry->local_storage() && !env.facts.extra_disk.empty()) {
    // registry.kind harbor-local: Harbor's volumes (images, database) go on the extra disk.
    // (Federation members keep k3s's default: their Harbor keeps images in S3.)
    out += fmt::format("default-local-storage-path: {}\n", q(std::string(k_local_storage_on_disk)));
  }
  out += "# The member deploys its own ingress; ServiceLB and local-storage stay on.\n"
         "disable:\n  - traefik\n";
  return out;
}

std::string render_registries(const Member& member) {
  if (member.node.registry_mirrors.empty()) {
    return {};
  }
  std::string out = "# Written by binder-firstboot from node.registries (read by k3s at start).\nmirrors:\n";
  for (const auto& [name, eps] : member.node.registry_mirrors) {
    out += fmt::format("  {}:\n    endpoint:\n", q(name));
    for (const auto& e : eps) {
      out += fmt::format("      - {}\n", q(e));
    }
  }
  return out;
}

}  // namespace binder::firstboot::k3s
