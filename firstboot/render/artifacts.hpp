// Every generated artifact by name, for `binder-firstboot render ARTIFACT` and the tests. Pure:
// nothing is read or written; secrets come from the SecretsView (placeholders "<secret:NAME>"
// when empty). Names (federation-only ones marked *):
//   sizing                      machine-size numbers and their rules (JSON)
//   dns-records                 Cloudflare record bodies for X and *.X (JSON)
//   helmchart-cert-manager, helmchart-traefik, helmchart-harbor, helmchart-binderhub
//                               HelmChart manifests (YAML; valuesContent holds no secret)
//   values-cert-manager, values-traefik, values-harbor, values-binderhub
//                               the non-secret chart values alone (YAML)
//   secret-values-harbor, secret-values-binderhub
//                               the valuesSecrets Secret manifests (YAML)
//   clusterissuer               cert-manager ClusterIssuer (YAML)
//   harbor-project, harbor-robots, harbor-retention
//                               Harbor API request bodies (JSON; the retention policy's
//                               scope.ref is "<project id>" until the project exists)
//   kubeconfig                  the rewritten kubeconfig (YAML; from RenderInputs::k3s_kubeconfig
//                               or a placeholder k3s.yaml)
//   mybinder-config*, mybinder-secrets*
//                               config/<name>.yaml and secrets/config/<name>.yaml
//   all                         every artifact of the member's mode, each after a
//                               "# ==> NAME <==" line
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "firstboot/env.hpp"
#include "firstboot/metadata/member.hpp"
#include "firstboot/render/secrets_view.hpp"

namespace binder::firstboot::render {

struct RenderExtras {
  std::string k3s_kubeconfig;  // text of /etc/rancher/k3s/k3s.yaml; empty = placeholder
};

// The artifact's text (ends with a newline). Errc::usage for an unknown name (with a "did you
// mean" hint) or a federation-only artifact in standalone mode; Errc::invalid_config when the
// kubeconfig text cannot be rewritten.
common::Result<std::string> render_artifact(std::string_view artifact, const Member& member,
                                            const MachineFacts& facts, const SecretsView& secrets,
                                            const RenderExtras& extras = {});

// All artifact names (both modes), in the order above, without "all".
std::vector<std::string> artifact_names();
// The names that apply to `member` (standalone members have no mybinder-* files).
std::vector<std::string> artifact_names(const Member& member);

// The public IP the documents use: metadata public_ip, else facts.public_ip, else "<public-ip>".
std::string public_ip_of(const Member& member, const MachineFacts& facts);

}  // namespace binder::firstboot::render
