// k3s file rendering and kubelet math. See k3s_files.hpp for the formulas.
#include "firstboot/k3s/k3s_files.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "common/fs.hpp"

namespace binder::firstboot::k3s {
namespace {

// YAML double-quoted scalar (JSON strings are valid YAML).
std::string q(const std::string& s) { return nlohmann::json(s).dump(); }

}  // namespace

std::string render_kubelet_conf(const Sizing& s) {
  return fmt::format(
      "# Written by binder-firstboot: sized for this machine ({:.1f} GiB RAM, {} CPUs; the rules:\n"
      "# `binder-firstboot render sizing`).\n"
      "apiVersion: kubelet.config.k8s.io/v1beta1\n"
      "kind: KubeletConfiguration\n"
      "maxPods: {}\n"
      "# Clean up images pulled by kubernetes anytime we are over\n"
      "# {}% disk usage until we hit {}% (dind uses the disk too)\n"
      "imageGCHighThresholdPercent: {}\n"
      "imageGCLowThresholdPercent: {}\n"
      "kubeReserved:\n  cpu: {}m\n  memory: {}Mi\n"
      "systemReserved:\n  cpu: {}m\n  memory: {}Mi\n",
      s.in.ram_gib, s.in.cpus, s.max_pods, s.image_gc_high, s.image_gc_low, s.image_gc_high, s.image_gc_low,
      s.kube_reserved_cpu_m, s.kube_reserved_memory_mi, s.system_reserved_cpu_m, s.system_reserved_memory_mi);
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
  std::string out = fmt::format(
      "# Written by binder-firstboot for member '{}'. k3s reads it at start.\n"
      "node-name: {}\n",
      env.member.name, q(node_name(env)));
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
  if (int mask = size_machine(env.facts, env.member).node_cidr_mask_size; mask != 24) {
    // maxPods above a /24's 250 addresses: each node gets a larger pod CIDR (before first start).
    out += fmt::format("kube-controller-manager-arg:\n  - \"node-cidr-mask-size={}\"\n", mask);
  }
  if (env.member.mode == Mode::standalone && env.member.registry && env.member.registry->local_storage() &&
      !env.facts.extra_disk.empty()) {
    // registry.kind harbor-local: Harbor's volumes (images, database) go on the extra disk.
    // (Federation members keep k3s's default: their Harbor keeps images in S3.)
    out += fmt::format("default-local-storage-path: {}\n", q(std::string(k_local_storage_on_disk)));
  }
  out +=
      "# The member deploys its own ingress; ServiceLB and local-storage stay on.\n"
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
