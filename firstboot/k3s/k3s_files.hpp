// The k3s files the agent writes, rendered as pure functions of metadata + machine facts:
// /etc/rancher/k3s/config.yaml, the kubelet drop-in, registries.yaml and the upgrade plan.
//
// The kubelet drop-in and the node CIDR size come from the one machine sizing (firstboot/sizing.hpp):
// maxPods, kube/system reserved, image GC thresholds, node-cidr-mask-size.
#pragma once

#include <cstdint>
#include <string>

#include "firstboot/env.hpp"
#include "firstboot/sizing.hpp"

namespace binder::firstboot::k3s {

// KubeletConfiguration drop-in text from the machine sizing.
std::string render_kubelet_conf(const Sizing& s);

// The node name k3s registers: the member name on a server; "<name>-<suffix>" on an agent, the
// suffix from /etc/machine-id (first 8 chars) or the public IP, so several agents never clash.
std::string node_name(const Env& env);

// config.yaml: server: node-name, write-kubeconfig-mode "0600", tls-san [public IP, fqdn],
// disable [traefik] (servicelb and local-storage kept), kube-controller-manager-arg
// node-cidr-mask-size=N when the sizing lifts maxPods above a /24's 250, node-external-ip <public
// IP> when the public IP is not on a NIC (facts.public_ip_on_nic false: NAT), and
// default-local-storage-path k_local_storage_on_disk for a standalone registry.kind harbor-local
// with an extra disk (Harbor's PVCs on it); agent: node-name, server, token.
std::string render_k3s_config(const Env& env);

// registries.yaml from node.registry_mirrors; empty string when there are none.
std::string render_registries(const Member& member);

// The system-upgrade-controller Plan (mybinder's config/k3s/k3s-upgrade-plan.yaml, embedded).
std::string_view upgrade_plan_yaml();

inline constexpr std::string_view k_config_path = "/etc/rancher/k3s/config.yaml";
inline constexpr std::string_view k_kubelet_path =
    "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/99-binder.conf";
inline constexpr std::string_view k_registries_path = "/etc/rancher/k3s/registries.yaml";
inline constexpr std::string_view k_plan_path = "/var/lib/rancher/k3s/server/manifests/k3s-upgrade-plan.yaml";
inline constexpr std::string_view k_local_storage_on_disk = "/mnt/disk/local-path";
inline constexpr std::string_view k_kubeconfig_path = "/etc/rancher/k3s/k3s.yaml";
// The Plan binder-image bakes with the system-upgrade-controller (builder config/k3s_upgrade.hpp,
// k3s.upgrade.enable): when the image holds it, the image's upgrade setup is complete and the
// k3s:upgrade-plan step places no second Plan.
inline constexpr std::string_view k_baked_plan_path =
    "/var/lib/rancher/k3s/server/manifests/system-upgrade-20-plan.yaml";

}  // namespace binder::firstboot::k3s
