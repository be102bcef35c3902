// Every generated artifact by name, for `binder-firstboot render ARTIFACT` and the tests. Pure:
// nothing is read or written; secrets come from the SecretsView (placeholders "<secret:NAME>"
// when empty); federation charts come from RenderExtras::charts (the image's charts manifest) or
// the pinned defaults. Names, by mode (F = federation only, S = standalone only; the Harbor
// ones, *-harbor and harbor-*, not for registry.kind external):
//   sizing                      machine-size numbers and their rules (JSON)
//   dns-records                 Cloudflare record bodies for X and *.X (JSON)
//   helmchart-cert-manager      HelmChart (F: the image's archive and config/cert-manager.yaml)
//   values-cert-manager         its values alone (YAML)
//   S: helmchart-traefik, helmchart-harbor, helmchart-binderhub, values-traefik, values-harbor,
//      values-binderhub, secret-values-harbor, secret-values-binderhub, clusterissuer
//   harbor-project, harbor-robots, harbor-retention, harbor-gc
//                               Harbor API request bodies (JSON; the retention policy's
//                               scope.ref is "<project id>" until the project exists)
//   kubeconfig                  the rewritten kubeconfig (YAML; from RenderExtras::k3s_kubeconfig
//                               or a placeholder k3s.yaml)
//   F: helmchart-mybinder       HelmChart <cluster> (valuesContent = mybinder-config, set = overrides)
//   F: secret-values-mybinder   its values Secret (values.yaml = mybinder-secrets)
//   F: member-overrides         the member-side overrides with reasons, and what only central has
//   F: mybinder-config, mybinder-secrets
//                               config/<cluster>.yaml and secrets/config/<cluster>.yaml
//   all                         every artifact of the member's mode, each after a
//                               "# ==> NAME <==" line
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "firstboot/env.hpp"
#include "firstboot/metadata/member.hpp"
#include "firstboot/render/charts_manifest.hpp"
#include "firstboot/render/secrets_view.hpp"

namespace binder::firstboot::render {

struct RenderExtras {
  std::string k3s_kubeconfig;         // text of /etc/rancher/k3s/k3s.yaml; empty = placeholder
  std::optional<ImageCharts> charts;  // the image's charts; nullopt = pinned_image_charts()
};

// The artifact's text (ends with a newline). Errc::usage for an unknown name (with a "did you
// mean" hint), a federation-only artifact in standalone mode or a Harbor artifact of a member
// without Harbor (registry.kind external); Errc::invalid_config when the
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
