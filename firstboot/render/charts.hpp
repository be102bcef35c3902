// Helm values for the four charts a member runs (cert-manager, traefik, harbor, binderhub) and
// the ClusterIssuer, derived from the member metadata and the machine size. The shape follows
// mybinder.org-deploy (mybinder/values.yaml + config/hetzner-2i2c.yaml, member spec §2) minus
// what only the mybinder meta-chart provides (priority classes, proxy-patches, cluster
// entrypoint, events archiver): traefik runs its own LoadBalancer Service on k3s ServiceLB.
//
// Every ChartValues splits into `values` (no secrets; HelmChart valuesContent) and
// `secret_values` (HelmChart valuesSecrets, from SecretsView; placeholders when unknown). For
// binderhub, metadata `binderhub.values` is deep-merged last into `values`, and any key it sets
// is removed from `secret_values` so the operator's value wins (valuesSecrets would otherwise
// take precedence over valuesContent in k3s).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "firstboot/metadata/member.hpp"
#include "firstboot/render/secrets_view.hpp"
#include "firstboot/render/sizing.hpp"

namespace binder::firstboot::render {

// Pinned chart versions (what mybinder.org runs; the federation redirector compares /versions).
inline constexpr const char* k_binderhub_chart_version = "1.0.0-0.dev.git.3983.h383374de";
inline constexpr const char* k_harbor_chart_version = "1.18.1";
inline constexpr const char* k_traefik_chart_version = "41.1.1";
inline constexpr const char* k_cert_manager_chart_version = "v1.20.2";
// The packaged mybinder chart the image pins (chartpress version of mybinder/ at the commit) and
// the mybinder.org-deploy commit it comes from (charts_manifest.hpp: render without an image).
inline constexpr const char* k_mybinder_chart_version = "2020.12.4-0.dev.git.7587.h95860dbc";
inline constexpr const char* k_mybinder_source_commit = "95860dbcba2031b930020dbd856e76cd37ba34c8";
// The repo2docker image mybinder's chart revision builds with (part of /versions).
inline constexpr const char* k_repo2docker_image = "quay.io/jupyterhub/repo2docker:2026.4.1.dev44-g97bb4e45a";
// Namespace of the HelmChart resources and their values Secrets (k3s convention).
inline constexpr const char* k_helmchart_namespace = "kube-system";

// One chart release: HelmChart metadata.name (= helm release), chart, repo, version, target ns.
struct ChartRef {
  std::string name;
  std::string chart;
  std::string repo;
  std::string version;
  std::string target_namespace;
  std::string values_secret;  // name of the Secret holding secret_values ("" = none)
};

struct ChartValues {
  nlohmann::json values = nlohmann::json::object();
  nlohmann::json secret_values = nlohmann::json::object();
};

// Releases: cert-manager -> ns cert-manager; binder-traefik -> ns traefik; harbor and binderhub
// -> the member namespace (= member name, like mybinder). The binderhub chart version comes from
// metadata binderhub.chart_version when set.
ChartRef cert_manager_chart();
ChartRef traefik_chart();
ChartRef harbor_chart(const Member& member);
ChartRef binderhub_chart(const Member& member);

ChartValues cert_manager_values(const Member& member);
ChartValues traefik_values(const Member& member, const Sizing& size);
ChartValues harbor_values(const Member& member, const Sizing& size, const SecretsView& secrets);
ChartValues binderhub_values(const Member& member, const Sizing& size, const SecretsView& secrets);

// The Docker Hub mirrors the build daemon (dind) gets as --registry-mirror: node.registries
// mirrors of "docker.io", else of "*" (dockerd mirrors only Docker Hub); empty when none.
std::vector<std::string> dind_registry_mirrors(const Member& member);

// cert-manager.io/v1 ClusterIssuer `tls.issuer` (letsencrypt-prod or letsencrypt-staging) with the
// metadata email and an HTTP-01 solver through the traefik ingress class.
nlohmann::json cluster_issuer(const Member& member);

// Helm-style deep merge: maps merge key by key, a null in `overlay` deletes the key, anything
// else in `overlay` replaces the value in `base`.
nlohmann::json deep_merge(nlohmann::json base, const nlohmann::json& overlay);

// Hostnames: X = <name>.<domain>, hub.X, and the registry host (metadata or registry.X).
std::string binder_host(const Member& member);
std::string hub_host(const Member& member);
std::string registry_host(const Member& member);
// "<registry host>/<project>/i-"; external registry: external_image_prefix (member.hpp).
std::string image_prefix(const Member& member);
std::string registry_project(const Member& member);

}  // namespace binder::firstboot::render
