// The k3s files the agent writes, rendered as pure functions of metadata + machine facts:
// /etc/rancher/k3s/config.yaml, the kubelet drop-in, registries.yaml and the upgrade plan.
//
// Kubelet sizing (documented formula; GKE's published tiers for kube-reserved):
//   maxPods = floor(max_pods_per_gib x RAM GiB), clamped to [20, 250]. The floor keeps k3s's own
//     pods (coredns, local-path, metrics-server, svclb, helm jobs) schedulable on small VMs; the
//     cap stays below the 254 addresses of the node's /24 pod CIDR (k3s default).
//   kubeReserved.memory = 25% of the first 4 GiB + 20% of the next 4 + 10% of the next 8
//     + 6% of the next 112 + 2% above 128 GiB.
//   kubeReserved.cpu = 6% of the first core + 1% of the second + 0.5% of cores 3-4
//     + 0.25% of every further core (millicores, rounded up).
//   systemReserved.memory = 5% of RAM clamped to [128 MiB, 2 GiB];
//   systemReserved.cpu = 50m per core clamped to [100m, 1000m].
//   imageGCHighThresholdPercent 40, imageGCLowThresholdPercent 20 (spec §5.1: dind shares the disk).
#pragma once

#include <cstdint>
#include <string>

#include "firstboot/env.hpp"

namespace binder::firstboot::k3s {

struct KubeletSizing {
  int max_pods = 0;
  int kube_reserved_cpu_m = 0;
  std::int64_t kube_reserved_memory_mi = 0;
  int system_reserved_cpu_m = 0;
  std::int64_t system_reserved_memory_mi = 0;
};

KubeletSizing kubelet_sizing(std::uint64_t ram_bytes, int cpus, double max_pods_per_gib);

// KubeletConfiguration drop-in text.
std::string render_kubelet_conf(const KubeletSizing& s);

// The node name k3s registers: the member name on a server; "<name>-<suffix>" on an agent, the
// suffix from /etc/machine-id (first 8 chars) or the public IP, so several agents never clash.
std::string node_name(const Env& env);

// config.yaml: server: node-name, write-kubeconfig-mode "0600", tls-san [public IP, fqdn],
// disable [traefik] (servicelb and local-storage kept), and node-external-ip <public IP> when the
// public IP is not on a NIC (facts.public_ip_on_nic false: NAT), and default-local-storage-path
// k_local_storage_on_disk for a standalone registry.kind harbor-local with an extra disk (Harbor's
// PVCs on it);
// agent: node-name, server, token.
std::string render_k3s_config(const Env& env);

// registries.yaml from node.registry_mirrors; empty string when there are none.
std::string render_registries(const Member& member);

// The system-upgrade-controller Plan (mybinder's config/k3s/k3s-upgrade-plan.yaml, embedded).
std::string_view upgrade_plan_yaml();

inline constexpr std::string_view k_config_path = "/etc/rancher/k3s/config.yaml";
inline constexpr std::string_view k_kubelet_path =
    "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/99-binder.conf";
inline constexpr std::string_view k_registries_path = "/etc/rancher/k3s/registries.yaml";
inline constexpr std::string_view k_plan_path =
    "/var/lib/rancher/k3s/server/manifests/k3s-upgrade-plan.yaml";
inline constexpr std::string_view k_local_storage_on_disk = "/mnt/disk/local-path";
inline constexpr std::string_view k_kubeconfig_path = "/etc/rancher/k3s/k3s.yaml";

}  // namespace binder::firstboot::k3s
