// Federation mode deploys what `deploy.py <cluster>` deploys (member spec Step 10), as two k3s
// HelmCharts whose spec.chart points at the archives baked into the image (charts_manifest.hpp):
//   cert-manager  release cert-manager in namespace cert-manager; valuesContent = mybinder's
//                 config/cert-manager.yaml; its CRDs are applied first (not by the chart)
//   <cluster>     the mybinder meta-chart as release <cluster> in namespace <cluster>:
//                   valuesContent  = the text of config/<cluster>.yaml       (mybinder_files.hpp)
//                   valuesSecrets  = Secret kube-system/<cluster>-mybinder-values, values.yaml =
//                                    the text of secrets/config/<cluster>.yaml
//                                    (+ <cluster>-member-values: donor-supplied secrets, if any)
//                   set            = the member-side overrides             (member_overrides.hpp)
// deploy.py's order (config, then secrets) is the helm-controller's order (valuesContent, then
// valuesSecrets, then set). mybinder_release() is the ONE function that produces the two member
// files: the export step writes exactly config_text and secrets_text, so what the VM deployed is
// what central deploys after handover, minus the overrides. The chart itself carries Harbor
// (<cluster>-harbor), traefik, prometheus, grafana and the ClusterIssuers.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "firstboot/metadata/member.hpp"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/charts_manifest.hpp"
#include "firstboot/render/secrets_view.hpp"
#include "firstboot/render/sizing.hpp"

namespace binder::firstboot::render {

struct MybinderRelease {
  ChartRef chart;                                 // name = namespace = cluster, chart = static URL, no repo
  std::string config_path;                        // "config/<cluster>.yaml"
  std::string config_text;                        // that file = valuesContent
  std::string secrets_path;                       // "secrets/config/<cluster>.yaml"
  std::string secrets_text;                       // that file = the values Secret's values.yaml
  nlohmann::json set = nlohmann::json::object();  // member overrides
  // What a donor supplies in place of central's secrets/config/common (metadata
  // binderhub.github_token): Secret kube-system/<cluster>-member-values, layered after the
  // secrets file, never exported (central has its own). Empty: no such Secret.
  nlohmann::json member_values = nlohmann::json::object();
  std::string member_values_secret;  // "<cluster>-member-values"
};

MybinderRelease mybinder_release(const Member& member, const Sizing& size, const SecretsView& secrets,
                                 const ImageCharts& charts);

// HelmChart kube-system/<cluster> and its values Secret (the Secret only ever goes to the API).
nlohmann::json mybinder_helmchart(const MybinderRelease& release);
nlohmann::json mybinder_values_secret(const MybinderRelease& release);
// Secret <cluster>-member-values (only when release.member_values is not empty).
nlohmann::json mybinder_member_values_secret(const MybinderRelease& release);

// cert-manager from the image: ChartRef and HelmChart (valuesContent = the baked values text).
ChartRef image_cert_manager_chart(const ImageCharts& charts);
nlohmann::json image_cert_manager_helmchart(const ImageCharts& charts);

// Deployments the waits watch once the mybinder release is installed (namespace <cluster>).
std::vector<std::string> mybinder_deployments(const Member& member);

}  // namespace binder::firstboot::render
