// Health of the Helm releases the agent handed to the k3s helm-controller, for `status`. With
// failurePolicy `abort` (render/helmchart.hpp) a failed install or upgrade leaves the release as
// it was and waits for the operator; this is where the operator learns about it. Read from the
// cluster: the agent's HelmCharts (label app.kubernetes.io/managed-by=binder-firstboot, namespace
// kube-system) and their install Jobs (status.jobName, else helm-install-<name>).
//   failed:  the HelmChart's condition `Failed` is "True" (the controller sets it for `abort`), or
//            the Job's condition `Failed` is "True" (backoffLimit reached).
//   failing: the Job has failed attempts and is still retrying (status.failed > 0, no success).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace binder::firstboot {
class KubeClient;
}

namespace binder::firstboot::app {

struct ReleaseProblem {
  std::string helmchart;  // "harbor"
  std::string job;        // "helm-install-harbor", or empty when no Job is known
  std::string state;      // "failed" or "failing"
  std::string message;    // the condition's message/reason, or "N failed attempts"
};

// Pure rule over listed objects (HelmCharts and Jobs of the HelmCharts' namespace). Sorted by
// HelmChart name; healthy charts are absent.
std::vector<ReleaseProblem> release_problems(const std::vector<nlohmann::json>& helmcharts,
                                             const std::vector<nlohmann::json>& jobs);

// Lists both through `kube`. Errors (API down, no CRD yet) are returned as they are.
common::Result<std::vector<ReleaseProblem>> query_release_problems(KubeClient& kube);

// The status document's "releases" entry: {"checked": bool, "error": string, "problems": [...]}.
// `checked` false with an error when the cluster could not be asked; the caller decides whether
// to ask at all (no kubeconfig yet: not asked, null).
nlohmann::json releases_json(const common::Result<std::vector<ReleaseProblem>>& problems);

// What verb_status adds: null when `root`/etc/rancher/k3s/k3s.yaml does not exist (k3s not
// started yet), else releases_json of a query with short timeouts and no retries.
nlohmann::json collect_release_health(const std::filesystem::path& root);

}  // namespace binder::firstboot::app
