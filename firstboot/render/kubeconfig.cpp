// fetch_k3s_kubeconfig.py, step by step (see kubeconfig.hpp).
#include "firstboot/render/kubeconfig.hpp"

#include "firstboot/render/yaml.hpp"

namespace binder::firstboot::render {

using common::Errc;
using common::fail;
using nlohmann::json;

namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

bool non_empty_list(const json& doc, const char* key) {
  return doc.is_object() && doc.contains(key) && doc[key].is_array() && !doc[key].empty() &&
         doc[key][0].is_object();
}

}  // namespace

common::Result<json> rewrite_kubeconfig(const json& k3s, const std::string& cluster,
                                        const std::string& public_ip) {
  for (const char* key : {"clusters", "contexts", "users"}) {
    if (!non_empty_list(k3s, key)) {
      return fail(Errc::invalid_config, "kubeconfig has no '{}' list", key);
    }
  }
  json out = k3s;
  json& c0 = out["clusters"][0];
  c0["name"] = cluster;
  if (!c0.contains("cluster") || !c0["cluster"].is_object() || !c0["cluster"].contains("server") ||
      !c0["cluster"]["server"].is_string()) {
    return fail(Errc::invalid_config, "kubeconfig clusters[0] has no cluster.server");
  }
  c0["cluster"]["server"] = replace_all(c0["cluster"]["server"].get<std::string>(), "127.0.0.1", public_ip);
  out["contexts"][0] = {{"name", cluster},
                        {"context", {{"cluster", cluster}, {"namespace", cluster}, {"user", cluster}}}};
  out["current-context"] = cluster;
  out["users"][0]["name"] = cluster;
  return out;
}

common::Result<std::string> rewrite_kubeconfig_yaml(std::string_view k3s_yaml, const std::string& cluster,
                                                    const std::string& public_ip) {
  TRY_ASSIGN(json doc, from_yaml(k3s_yaml, "k3s kubeconfig"));
  TRY_ASSIGN(json out, rewrite_kubeconfig(doc, cluster, public_ip));
  return to_yaml(out);
}

std::string k3s_kubeconfig_placeholder() {
  return R"(apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: <k3s:server-ca-data>
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: <k3s:admin-client-certificate-data>
    client-key-data: <secret:k3s-admin-client-key-data>
)";
}

}  // namespace binder::firstboot::render
