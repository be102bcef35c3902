// Harbor and BinderHub values (member spec §2.1-§2.3, §3.3): hostnames, S3 storage, the stable
// Harbor secrets, the registry robots, and the machine-size numbers from sizing.hpp.
#include "firstboot/render/api_requests.hpp"
#include "firstboot/render/charts.hpp"

namespace binder::firstboot::render {

using nlohmann::json;

namespace {

// Removes from `secrets` every leaf that `overrides` sets (the operator's value wins).
void drop_overridden(json& secrets, const json& overrides) {
  if (!secrets.is_object() || !overrides.is_object())
    return;
  for (const auto& [k, v] : overrides.items()) {
    if (!secrets.contains(k))
      continue;
    if (secrets[k].is_object() && v.is_object()) {
      drop_overridden(secrets[k], v);
      if (secrets[k].empty())
        secrets.erase(k);
    } else {
      secrets.erase(k);
    }
  }
}

json ingress_annotations(const Member& member, const char* middleware) {
  json a = {{"kubernetes.io/ingress.class", "traefik"},
            {"kubernetes.io/tls-acme", "true"},
            {"cert-manager.io/cluster-issuer", member.tls.issuer}};
  if (middleware)
    a["traefik.ingress.kubernetes.io/router.middlewares"] = middleware;
  return a;
}

}  // namespace

std::vector<std::string> dind_registry_mirrors(const Member& member) {
  const auto& m = member.node.registry_mirrors;
  if (auto it = m.find("docker.io"); it != m.end())
    return it->second;
  if (auto it = m.find("*"); it != m.end())
    return it->second;
  return {};
}

ChartRef harbor_chart(const Member& member) {
  return {"harbor",         "harbor",       "https://helm.goharbor.io", k_harbor_chart_version,
          member.cluster(), "harbor-values"};
}

ChartRef binderhub_chart(const Member& member) {
  std::string version =
      member.binderhub.chart_version.empty() ? k_binderhub_chart_version : member.binderhub.chart_version;
  return {"binderhub", "binderhub",      "https://jupyterhub.github.io/helm-chart",
          version,     member.cluster(), "binderhub-values"};
}

ChartValues harbor_values(const Member& member, const Sizing& size, const SecretsView& secrets) {
  const std::string host = registry_host(member);
  ChartValues v;
  json& h = v.values;
  h["expose"]["type"] = "ingress";
  h["expose"]["ingress"]["hosts"]["core"] = host;
  h["expose"]["ingress"]["annotations"] = ingress_annotations(member, "harbor@file");
  h["expose"]["tls"] = {
      {"enabled", true}, {"certSource", "secret"}, {"secret", {{"secretName", "tls-harbor"}}}};
  h["externalURL"] = "https://" + host;
  h["metrics"]["enabled"] = true;
  h["trivy"]["enabled"] = false;
  h["core"]["replicas"] = size.harbor_replicas;
  h["core"]["serviceAnnotations"] = {{"prometheus.io/port", "8001"}, {"prometheus.io/scrape", "true"}};
  h["registry"]["replicas"] = size.harbor_replicas;

  json& s = v.secret_values;
  s["harborAdminPassword"] = secrets.get(secret::harbor_admin_password);
  s["secretKey"] = secrets.get(secret::harbor_secret_key);
  s["core"] = {{"secret", secrets.get(secret::harbor_core_secret)},
               {"xsrfKey", secrets.get(secret::harbor_xsrf_key)},
               {"tokenKey", secrets.get(secret::harbor_token_key)},
               {"tokenCert", secrets.get(secret::harbor_token_cert)}};
  s["jobservice"]["secret"] = secrets.get(secret::harbor_jobservice_secret);
  s["registry"]["secret"] = secrets.get(secret::harbor_registry_secret);
  s["registry"]["credentials"] = {{"password", secrets.get(secret::harbor_registry_password)},
                                  {"htpasswdString", secrets.get(secret::harbor_registry_htpasswd)}};

  // registry.kind harbor-s3: images in the bucket. harbor-local: on the registry's volume (a k3s
  // local-path PVC: /mnt/disk/local-path with an extra disk, k3s_files.hpp; else the root disk).
  if (member.registry && member.registry->s3) {
    const auto& s3 = *member.registry->s3;
    json& st = h["persistence"]["imageChartStorage"];
    st["type"] = "s3";
    st["s3"] = {{"region", s3.region.empty() ? "does-not-matter" : s3.region},
                {"bucket", s3.bucket},
                {"regionendpoint", s3.endpoint},
                {"rootdirectory", "harbor"}};
    s["persistence"]["imageChartStorage"]["s3"] = {{"accesskey", secrets.get(secret::s3_access_key)},
                                                   {"secretkey", secrets.get(secret::s3_secret_key)}};
  } else {
    h["persistence"]["enabled"] = true;
    h["persistence"]["imageChartStorage"]["type"] = "filesystem";
    h["persistence"]["imageChartStorage"]["filesystem"] = {{"rootdirectory", "/storage"}};
  }
  return v;
}

ChartValues binderhub_values(const Member& member, const Sizing& size, const SecretsView& secrets) {
  const std::string registry = registry_host(member);
  ChartValues v;
  json& b = v.values;
  b["replicas"] = size.binderhub_replicas;
  b["resources"] = json::parse(
      R"({"requests": {"cpu": "0.25", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}})");

  json& bh = b["config"]["BinderHub"];
  bh["hub_url"] = "https://" + hub_host(member);
  bh["image_prefix"] = image_prefix(member);
  bh["use_registry"] = true;
  bh["sticky_builds"] = true;
  bh["per_repo_quota"] = 100;
  bh["per_repo_quota_higher"] = 200;
  if (member.mode == Mode::federation) {
    bh["badge_base_url"] = "https://" + member.domain;
  }
  json& kbe = b["config"]["KubernetesBuildExecutor"];
  kbe["docker_host"] = "/var/run/dind/docker.sock";
  kbe["build_image"] = k_repo2docker_image;
  kbe["repo2docker_extra_args"] = {"--Repo2Docker.default_buildpack=None",
                                   R"(--DockerEngine.extra_init_args={"timeout":1200})"};
  kbe["resources"] = json::parse(R"({"limits": {"ephemeral-storage": "2G", "memory": "2G", "cpu": "1"},
                                     "requests": {"memory": "2G", "cpu": "100m"}})");
  b["config"]["LaunchQuota"]["total_quota"] = size.total_quota;

  const bool external = !runs_harbor(member);
  b["registry"]["url"] = external ? member.registry->url : "https://" + registry;
  b["imageBuilderType"] = "dind";
  json& dind = b["dind"];
  dind["daemonset"]["image"]["tag"] = "27.5.1-dind";
  dind["daemonset"]["extraArgs"] = {"--max-concurrent-uploads=32", "--mtu=1450"};
  // node.registries mirrors reach the builds too, not only k3s's containerd (dockerd mirrors
  // Docker Hub only: the docker.io endpoints, else the "*" ones).
  for (const auto& m : dind_registry_mirrors(member)) {
    dind["daemonset"]["extraArgs"].push_back("--registry-mirror=" + m);
  }
  dind["resources"] = {{"requests", {{"cpu", size.dind_cpu_request}, {"memory", size.dind_memory_request}}},
                       {"limits", {{"cpu", size.dind_cpu_limit}, {"memory", size.dind_memory_limit}}}};
  if (size.extra_disk) {
    dind["hostLibDir"] = "/mnt/disk/dind";
  }
  // No buildkit pruner in the binderhub chart: the image cleaner keeps dind's disk in bounds.
  b["imageCleaner"] = {{"enabled", true},
                       {"imageGCThresholdHigh", size.image_cleaner_high_bytes},
                       {"imageGCThresholdLow", size.image_cleaner_low_bytes},
                       {"imageGCThresholdType", "absolute"}};
  // ClusterIP behind the ingress, as mybinder's values.yaml does: the chart's default
  // LoadBalancer on port 80 competes with the ingress controller for host port 80 on ServiceLB.
  b["service"]["type"] = "ClusterIP";
  b["ingress"] = {{"enabled", true},
                  {"annotations", ingress_annotations(member, nullptr)},
                  {"hosts", {binder_host(member)}},
                  {"https", {{"enabled", true}, {"type", "kube-lego"}}}};

  json& jh = b["jupyterhub"];
  jh["cull"] = {{"every", 660}, {"timeout", 600}, {"maxAge", 21600}};
  jh["proxy"]["service"]["type"] = "ClusterIP";
  jh["ingress"] = {
      {"enabled", true},
      {"annotations", ingress_annotations(member, "hub@file")},
      {"hosts", {hub_host(member)}},
      {"tls", json::array({{{"secretName", "kubelego-tls-hub"}, {"hosts", {hub_host(member)}}}})}};
  jh["scheduling"] = {{"userScheduler", {{"enabled", false}}}, {"userPlaceholder", {{"enabled", false}}}};
  jh["singleuser"]["memory"] = {{"guarantee", size.user_memory_guarantee}, {"limit", size.user_memory_limit}};
  jh["singleuser"]["cpu"] = {{"guarantee", size.user_cpu_guarantee}, {"limit", size.user_cpu_limit}};
  jh["imagePullSecret"] = {{"create", true}, {"registry", external ? member.registry->url : registry}};

  json& s = v.secret_values;
  if (external) {
    // registry.kind external: BinderHub pushes and user pods pull with the operator's credentials.
    s["registry"] = {{"username", member.registry->username},
                     {"password", secrets.get(secret::registry_password)}};
    s["jupyterhub"]["imagePullSecret"] = {{"username", member.registry->username},
                                          {"password", secrets.get(secret::registry_password)}};
  } else {
    s["registry"] = {{"username", robot_full_name(member, builder_robot_name(member))},
                     {"password", secrets.get(secret::builder_robot_secret)}};
    s["jupyterhub"]["imagePullSecret"] = {{"username", robot_full_name(member, puller_robot_name(member))},
                                          {"password", secrets.get(secret::puller_robot_secret)}};
  }

  if (!member.binderhub.github_token.empty()) {
    s["config"]["GitHubRepoProvider"]["access_token"] = secrets.get(secret::github_token);
  }
  b = deep_merge(std::move(b), member.binderhub.values);
  drop_overridden(s, member.binderhub.values);
  return v;
}

}  // namespace binder::firstboot::render
