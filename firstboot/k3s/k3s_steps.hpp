// The k3s steps (DESIGN.md §6 step 3; run order: firstboot/app/steps.cpp):
//   k3s:config        /etc/rancher/k3s/config.yaml (0600: an agent's holds the join token)
//   k3s:kubelet       the kubelet drop-in sized for this machine (k3s_files.hpp)
//   k3s:registries    /etc/rancher/k3s/registries.yaml when node.registries.mirrors is set
//   k3s:upgrade-plan  the system-upgrade-controller Plan in the manifests dir (k3s.auto_upgrade;
//                     the controller itself must come with the image or the operator). Nothing
//                     when the image bakes controller, CRD and Plan (binder-image k3s.upgrade).
//   k3s:service       systemctl enable --now k3s (server) or k3s-agent (agent); restarted when
//                     the files above changed since it was started (live only)
//   k3s:ready         server: the admin kubeconfig appears, /readyz is ok and the node is Ready
//                     (through KubeClient, TLS verified with the kubeconfig's CA); agent: the
//                     service is active. Not live and no kubeconfig under the root: skipped.
#pragma once

#include <chrono>
#include <memory>

#include "firstboot/step.hpp"

namespace binder::firstboot::k3s {

struct ReadyOptions {
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  std::chrono::milliseconds interval{std::chrono::seconds(5)};
  // Per-request limits of the Kubernetes client.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
  int max_attempts = 3;
};

std::unique_ptr<Step> make_config_step();
std::unique_ptr<Step> make_kubelet_step();
std::unique_ptr<Step> make_registries_step();
std::unique_ptr<Step> make_upgrade_plan_step();
std::unique_ptr<Step> make_service_step();
std::unique_ptr<Step> make_ready_step(ReadyOptions options = {});

}  // namespace binder::firstboot::k3s
