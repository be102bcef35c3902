// mybinder.org-deploy member files (see mybinder_files.hpp).
#include "firstboot/render/mybinder_files.hpp"

#include "firstboot/render/api_requests.hpp"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/yaml.hpp"

namespace binder::firstboot::render {

using nlohmann::json;

namespace {

json ingress_with_tls(const std::string& host, const std::string& secret) {
  return {{"hosts", json::array({host})},
          {"tls", json::array({json{{"hosts", json::array({host})}, {"secretName", secret}}})}};
}

}  // namespace

json mybinder_config(const Member& member, const Sizing& size) {
  const std::string x = member.fqdn();
  json c;
  c["projectName"] = member.cluster();

  json& h = c["harbor"];
  h["enabled"] = true;
  h["expose"]["ingress"]["hosts"]["core"] = registry_host(member);
  if (member.registry && member.registry->s3) {
    const auto& s3 = *member.registry->s3;
    h["persistence"]["imageChartStorage"]["s3"] = {
        {"region", s3.region.empty() ? "does-not-matter" : s3.region},
        {"bucket", s3.bucket},
        {"regionendpoint", s3.endpoint},
        {"rootdirectory", "harbor"}};
  } else {
    // harbor-local: mybinder's values.yaml defaults Harbor to type s3 with an empty s3 block,
    // which would start a registry that cannot store anything; keep images on its volume.
    h["persistence"]["enabled"] = true;
    h["persistence"]["imageChartStorage"]["type"] = "filesystem";
    h["persistence"]["imageChartStorage"]["filesystem"] = {{"rootdirectory", "/storage"}};
  }
  h["core"]["replicas"] = size.harbor_replicas;
  h["registry"]["replicas"] = size.harbor_replicas;

  json& b = c["binderhub"];
  b["config"]["BinderHub"] = {{"hub_url", "https://hub." + x},
                              {"badge_base_url", "https://" + member.domain},
                              {"sticky_builds", true},
                              {"image_prefix", image_prefix(member)}};
  b["config"]["KubernetesBuildExecutor"]["docker_host"] = "/var/run/dind/docker.sock";
  b["config"]["LaunchQuota"]["total_quota"] = size.total_quota;
  b["replicas"] = size.binderhub_replicas;
  b["extraVolumes"] =
      json::array({json{{"name", "secrets"}, {"secret", {{"secretName", "events-archiver-secrets"}}}}});
  b["extraVolumeMounts"] =
      json::array({json{{"name", "secrets"}, {"mountPath", "/secrets"}, {"readOnly", true}}});
  b["extraEnv"]["GOOGLE_APPLICATION_CREDENTIALS"] = "/secrets/service-account.json";
  b["dind"]["resources"] = {
      {"requests", {{"cpu", size.dind_cpu_request}, {"memory", size.dind_memory_request}}},
      {"limits", {{"cpu", size.dind_cpu_limit}, {"memory", size.dind_memory_limit}}}};
  if (size.extra_disk)
    b["dind"]["hostLibDir"] = "/mnt/disk/dind";
  // node.registries mirrors reach the build daemon too (only when there are any: a list replaces
  // mybinder's, so its two arguments are repeated).
  if (auto mirrors = dind_registry_mirrors(member); !mirrors.empty()) {
    json args = {"--max-concurrent-uploads=32", "--mtu=1450"};
    for (const auto& m : mirrors)
      args.push_back("--registry-mirror=" + m);
    b["dind"]["daemonset"]["extraArgs"] = args;
  }
  b["ingress"]["hosts"] = json::array({x});
  b["jupyterhub"]["ingress"] = ingress_with_tls("hub." + x, "kubelego-tls-hub");
  b["imageCleaner"]["enabled"] = false;  // handled by mybinder's buildkit pruner
  b = deep_merge(std::move(b), member.binderhub.values);
  // The pruner's build-cache bound, from the disk dind keeps its state on (sizing.hpp).
  c["buildkitPruner"]["buildkitCacheSize"] = size.buildkit_cache_size;

  c["grafana"]["ingress"] = ingress_with_tls("grafana." + x, "kubelego-tls-grafana");
  json ds = {
      {"name", "prometheus"}, {"orgId", 1},        {"type", "prometheus"}, {"url", "https://prometheus." + x},
      {"access", "direct"},   {"isDefault", true}, {"editable", false}};
  c["grafana"]["datasources"]["datasources.yaml"] = {{"apiVersion", 1}, {"datasources", json::array({ds})}};

  c["prometheus"]["server"]["persistentVolume"]["size"] = size.prometheus_volume;
  c["prometheus"]["server"]["ingress"] = ingress_with_tls("prometheus." + x, "kubelego-tls-prometheus");
  std::string scrape;
  for (const char* part : {"exporter", "registry", "jobservice"}) {
    scrape += std::string("- job_name: 'harbor-") + part +
              "'\n  static_configs:\n    - targets:\n        - " + member.cluster() + "-harbor-" + part +
              ":8001\n";
  }
  c["prometheus"]["extraScrapeConfigs"] = scrape;
  c["static"]["ingress"] = {{"hosts", json::array({"static." + x})},
                            {"tls", {{"secretName", "kubelego-tls-static"}}}};
  return c;
}

json mybinder_secrets(const Member& member, const SecretsView& secrets) {
  const std::string host = registry_host(member);
  json s;
  json& h = s["harbor"];
  h["harborAdminPassword"] = secrets.get(secret::harbor_admin_password);
  h["externalURL"] = "https://" + host;
  h["secretKey"] = secrets.get(secret::harbor_secret_key);
  h["core"] = {{"secret", secrets.get(secret::harbor_core_secret)},
               {"xsrfKey", secrets.get(secret::harbor_xsrf_key)},
               {"tokenKey", secrets.get(secret::harbor_token_key)},
               {"tokenCert", secrets.get(secret::harbor_token_cert)}};
  h["jobservice"]["secret"] = secrets.get(secret::harbor_jobservice_secret);
  h["registry"] = {{"secret", secrets.get(secret::harbor_registry_secret)},
                   {"credentials",
                    {{"password", secrets.get(secret::harbor_registry_password)},
                     {"htpasswdString", secrets.get(secret::harbor_registry_htpasswd)}}}};
  if (member.registry && member.registry->s3) {
    h["persistence"]["imageChartStorage"]["s3"] = {{"accesskey", secrets.get(secret::s3_access_key)},
                                                   {"secretkey", secrets.get(secret::s3_secret_key)}};
  }
  s["grafana"]["adminPassword"] = secrets.get(secret::grafana_admin_password);
  s["binderhub"]["registry"] = {{"url", "https://" + host},
                                {"username", robot_full_name(member, builder_robot_name(member))},
                                {"password", secrets.get(secret::builder_robot_secret)}};
  s["binderhub"]["jupyterhub"]["imagePullSecret"] = {
      {"create", true},
      {"registry", host},
      {"username", robot_full_name(member, puller_robot_name(member))},
      {"password", secrets.get(secret::puller_robot_secret)}};
  // The events archiver's GCP service-account key is made by central (member_overrides.hpp);
  // the file carries it only once known, never a placeholder central would deploy.
  if (secrets.has(secret::events_archiver_key)) {
    s["eventsArchiver"]["serviceAccountKey"] = secrets.get(secret::events_archiver_key);
  }
  return s;
}

std::string mybinder_config_path(const Member& member) { return "config/" + member.cluster() + ".yaml"; }
std::string mybinder_secrets_path(const Member& member) {
  return "secrets/config/" + member.cluster() + ".yaml";
}

std::string mybinder_file_text(const Member& member, const json& doc, bool secrets) {
  std::string header =
      "# mybinder.org-deploy " + (secrets ? mybinder_secrets_path(member) : mybinder_config_path(member)) +
      " for federation member '" + member.name + "'.\n# Generated by binder-firstboot on the member VM";
  header += secrets ? "; holds secrets: commit only git-crypt encrypted.\n" : ".\n";
  return header + to_yaml(doc);
}

}  // namespace binder::firstboot::render
