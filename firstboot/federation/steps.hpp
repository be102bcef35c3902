// The federation join as firstboot steps (DESIGN.md §6 steps 4-8; issue 5), run by the agent after
// the k3s steps. In order:
//   dns:records          Cloudflare A records X.domain and *.X.domain -> public IP (proxied off)
//   secrets:generate     Harbor + Grafana secrets generated once, journaled before use, and kept in
//                        the Secret kube-system/binder-member-secrets
//   s3:lifecycle         abort incomplete multipart uploads after 1 day on the registry bucket
//   ingress:cert-manager cert-manager HelmChart, ready, then the ClusterIssuer
//   ingress:traefik      traefik HelmChart (Harbor's ingress needs it and a certificate before
//                        https://registry.X answers with a trusted certificate)
//   harbor:chart         Harbor HelmChart + its valuesSecrets Secret
//   harbor:api           wait for /api/v2.0/health healthy; project + quota, retention, robots
//                        (robot secrets journaled before they are set)
//   binderhub:chart      BinderHub HelmChart + valuesSecrets (robot credentials); wait until the
//                        deployments are ready
//   export:files         kubeconfig for the public IP, mybinder config/secrets files (federation
//                        mode), summary; all 0600 under /var/lib/binder-firstboot/export/
// Standalone members skip the DNS step when they give no dns section, and the export step writes
// no mybinder files. Every step is safe to rerun: it reads remote state first and writes only
// what differs, so a second run reports "unchanged" and sends no write.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "firstboot/federation/options.hpp"
#include "firstboot/step.hpp"

namespace binder::firstboot::federation {

// The steps above, in order.
StepList make_federation_steps(const FederationOptions& options = options_from_environment());

// Their ids, in order (for plan/status and tests).
std::vector<std::string> federation_step_ids();

// Journal key of a generated secret named by render::secret ("secrets.harbor-core-secret").
std::string secret_output_key(std::string_view name);

// Where the export step writes (system paths, mapped through Env::path()).
inline constexpr std::string_view k_export_dir = "/var/lib/binder-firstboot/export";

}  // namespace binder::firstboot::federation
