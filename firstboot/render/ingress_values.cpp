// cert-manager, traefik and the ClusterIssuer: the cluster's TLS and ingress plumbing. Values
// follow mybinder's config/cert-manager.yaml and the traefik section of mybinder/values.yaml.
#include "firstboot/render/charts.hpp"

namespace binder::firstboot::render {

using nlohmann::json;

ChartRef cert_manager_chart() {
  return {"cert-manager",
          "cert-manager",
          "https://charts.jetstack.io",
          k_cert_manager_chart_version,
          "cert-manager",
          ""};
}

ChartRef traefik_chart() {
  // Not "traefik": k3s owns kube-system/traefik (its packaged add-on, skipped on our images).
  return {"binder-traefik",        "traefik", "https://traefik.github.io/charts",
          k_traefik_chart_version, "traefik", ""};
}

ChartValues cert_manager_values(const Member& member) {
  ChartValues v;
  v.values = json::parse(R"({
    "crds": {"enabled": true, "keep": true},
    "ingressShim": {"defaultIssuerKind": "ClusterIssuer"},
    "resources": {"requests": {"cpu": "15m", "memory": "48Mi"}, "limits": {"cpu": "45m", "memory": "144Mi"}},
    "webhook": {"resources": {"requests": {"cpu": "15m", "memory": "48Mi"}, "limits": {"cpu": "45m", "memory": "144Mi"}}},
    "cainjector": {"resources": {"requests": {"cpu": "15m", "memory": "48Mi"}, "limits": {"cpu": "45m", "memory": "144Mi"}}}
  })");
  v.values["ingressShim"]["defaultIssuerName"] = member.tls.issuer;
  return v;
}

ChartValues traefik_values(const Member&, const Sizing& size) {
  ChartValues v;
  v.values = json::parse(R"({
    "api": {"dashboard": false},
    "log": {"level": "INFO"},
    "accessLog": {"enabled": true, "fields": {"headers": {"defaultMode": "drop", "names": {"User-Agent": "keep"}}}},
    "ports": {"websecure": {"transport": {"respondingTimeouts": {"readTimeout": 600, "idleTimeout": 600}}}},
    "providers": {
      "file": {"enabled": true, "content": {"http": {"middlewares": {
        "harbor": {"buffering": {"maxRequestBodyBytes": 0}},
        "hub": {"buffering": {"maxRequestBodyBytes": 64000000}},
        "default": {"buffering": {"maxRequestBodyBytes": 1000000}}}}}},
      "kubernetesCRD": {"enabled": false},
      "kubernetesIngress": {"enabled": true}
    },
    "ingressClass": {"enabled": true, "isDefaultClass": true, "name": "traefik"},
    "resources": {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"cpu": 2, "memory": "4Gi"}},
    "service": {"enabled": true, "type": "LoadBalancer", "spec": {"externalTrafficPolicy": "Local"}}
  })");
  v.values["deployment"]["replicas"] = size.binderhub_replicas;
  return v;
}

json cluster_issuer(const Member& member) {
  bool staging = member.tls.issuer.find("staging") != std::string::npos;
  json solver = json::object();
  solver["http01"]["ingress"]["class"] = "traefik";
  json issuer = {{"apiVersion", "cert-manager.io/v1"},
                 {"kind", "ClusterIssuer"},
                 {"metadata", {{"name", member.tls.issuer}}},
                 {"spec",
                  {{"acme",
                    {{"email", member.tls.email},
                     {"server", staging ? "https://acme-staging-v02.api.letsencrypt.org/directory"
                                        : "https://acme-v02.api.letsencrypt.org/directory"},
                     {"privateKeySecretRef", {{"name", member.tls.issuer}}},
                     {"solvers", json::array({solver})}}}}}};
  return issuer;
}

json deep_merge(json base, const json& overlay) {
  if (!base.is_object() || !overlay.is_object()) {
    return overlay;
  }
  for (const auto& [k, v] : overlay.items()) {
    if (v.is_null()) {
      base.erase(k);
    } else if (base.contains(k) && base[k].is_object() && v.is_object()) {
      base[k] = deep_merge(std::move(base[k]), v);
    } else {
      base[k] = v;
    }
  }
  return base;
}

std::string binder_host(const Member& member) { return member.fqdn(); }
std::string hub_host(const Member& member) { return "hub." + member.fqdn(); }
std::string registry_host(const Member& member) { return member.registry_host(); }
std::string registry_project(const Member& member) {
  return member.registry ? member.registry->project : RegistryConfig{}.project;
}
std::string image_prefix(const Member& member) {
  if (!runs_harbor(member))
    return external_image_prefix(*member.registry);
  return registry_host(member) + "/" + registry_project(member) + "/i-";
}

}  // namespace binder::firstboot::render
