// The join as firstboot steps (DESIGN.md §6 steps 4-8; issues 5 and 10), run by the agent after
// the k3s steps, on the member's server; their order and conditions are in firstboot/app/steps.cpp.
// Federation mode does what `deploy.py <cluster>` does
// (member spec Step 10) with the charts baked into the image:
//   dns:records          Cloudflare A records X.domain and *.X.domain -> public IP (proxied off)
//   secrets:generate     Harbor + Grafana secrets generated once, journaled before use, and kept in
//                        the Secret kube-system/binder-member-secrets
//   s3:lifecycle         abort incomplete multipart uploads after 1 day on the registry bucket
//   ingress:cert-manager cert-manager CRDs, then its HelmChart from the image, ready
//   mybinder:chart       the mybinder release <cluster> in namespace <cluster>: values Secret
//                        (secrets/config/<cluster>.yaml) + HelmChart (config/<cluster>.yaml, member
//                        overrides); waits until BinderHub and the chart's <cluster>-harbor are ready
//   harbor:api           wait for /api/v2.0/health healthy; project + quota, retention, robots
//                        (robot secrets journaled before they are set), GC schedule; the release's
//                        values Secret kept in step with the robots
//   readiness            HTTPS through the public names: binder /health, hub health, registry,
//                        /versions equal to the prime's, optional test launch (readiness.hpp)
//   export:files         kubeconfig for the public IP, config/<cluster>.yaml and
//                        secrets/config/<cluster>.yaml (exactly what mybinder:chart deployed),
//                        summary; all 0600 under /var/lib/binder-firstboot/export/
// Standalone mode (operators' own BinderHub) keeps its four charts from the public repositories
// in place of the two chart steps: ingress:cert-manager (+ ClusterIssuer), ingress:traefik,
// harbor:chart, harbor:api, binderhub:chart; it skips the DNS step when it gives no dns section,
// and the export step writes no mybinder files. Every step is safe to rerun: it reads remote
// state first and writes only what differs, so a second run reports "unchanged" and sends no
// write.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "firstboot/federation/options.hpp"
#include "firstboot/metadata/member.hpp"
#include "firstboot/step.hpp"

namespace binder::firstboot::federation {

// Step factories (one file each).
std::unique_ptr<Step> make_dns_step(const FederationOptions& options);
std::unique_ptr<Step> make_secrets_step(const FederationOptions& options);
std::unique_ptr<Step> make_s3_step(const FederationOptions& options);
std::unique_ptr<Step> make_cert_manager_step(const FederationOptions& options);
std::unique_ptr<Step> make_traefik_step(const FederationOptions& options);
std::unique_ptr<Step> make_harbor_chart_step(const FederationOptions& options);
std::unique_ptr<Step> make_harbor_api_step(const FederationOptions& options);
std::unique_ptr<Step> make_binderhub_step(const FederationOptions& options);
std::unique_ptr<Step> make_export_step(const FederationOptions& options);
// Federation mode (release_steps.cpp): cert-manager from the image, the mybinder release.
std::unique_ptr<Step> make_image_cert_manager_step(const FederationOptions& options);
std::unique_ptr<Step> make_mybinder_step(const FederationOptions& options);

// Journal key of a generated secret named by render::secret ("secrets.harbor-core-secret").
std::string secret_output_key(std::string_view name);

// Where the export step writes (system paths, mapped through Env::path()).
inline constexpr std::string_view k_export_dir = "/var/lib/binder-firstboot/export";

}  // namespace binder::firstboot::federation
