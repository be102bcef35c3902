// Kubeconfig reading (the k3s admin kubeconfig and kubectl-style files).
#include <yaml-cpp/yaml.h>

#include "common/fs.hpp"
#include "firstboot/k3s/base64.hpp"
#include "firstboot/k3s/kube_client.hpp"

namespace binder::firstboot {
namespace {

YAML::Node find_named(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) {
    return {};
  }
  for (const auto& item : list) {
    if (name.empty() || (item["name"] && item["name"].as<std::string>() == name)) {
      return item;
    }
  }
  return {};
}

Result<std::string> data_field(const YAML::Node& n, const char* key, std::string_view origin) {
  if (!n || !n[key]) {
    return std::string();
  }
  auto decoded = base64_decode(n[key].as<std::string>());
  if (!decoded) {
    return common::fail(Errc::invalid_config, "kubeconfig '{}': '{}' is not base64", origin, key);
  }
  return *decoded;
}

}  // namespace

Result<KubeConfig> parse_kubeconfig(std::string_view yaml, std::string_view origin) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    std::string ctx_name = root["current-context"] ? root["current-context"].as<std::string>() : "";
    YAML::Node ctx = find_named(root["contexts"], ctx_name);
    std::string cluster_name, user_name;
    if (ctx && ctx["context"]) {
      cluster_name = ctx["context"]["cluster"] ? ctx["context"]["cluster"].as<std::string>() : "";
      user_name = ctx["context"]["user"] ? ctx["context"]["user"].as<std::string>() : "";
    }
    YAML::Node cluster = find_named(root["clusters"], cluster_name);
    YAML::Node user = find_named(root["users"], user_name);
    if (!cluster || !cluster["cluster"] || !cluster["cluster"]["server"]) {
      return common::fail(Errc::invalid_config, "kubeconfig '{}' has no cluster server", origin);
    }
    KubeConfig c;
    c.server = cluster["cluster"]["server"].as<std::string>();
    TRY_ASSIGN(c.ca_pem, data_field(cluster["cluster"], "certificate-authority-data", origin));
    if (user && user["user"]) {
      TRY_ASSIGN(c.client_cert_pem, data_field(user["user"], "client-certificate-data", origin));
      TRY_ASSIGN(c.client_key_pem, data_field(user["user"], "client-key-data", origin));
      if (user["user"]["token"]) {
        c.token = user["user"]["token"].as<std::string>();
      }
    }
    if (c.client_cert_pem.empty() && c.token.empty()) {
      return common::fail(Errc::invalid_config, "kubeconfig '{}' has no client certificate or token", origin);
    }
    return c;
  } catch (const YAML::Exception& e) {
    return common::fail(Errc::invalid_config, "kubeconfig '{}': {}", origin, e.what());
  }
}

Result<KubeConfig> load_kubeconfig(const std::filesystem::path& path) {
  TRY_ASSIGN(auto text, common::fs::read_file(path));
  return parse_kubeconfig(text, path.string());
}

}  // namespace binder::firstboot
