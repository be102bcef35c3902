// The kubeconfig operators get for a member: k3s's /etc/rancher/k3s/k3s.yaml rewritten exactly
// as mybinder.org-deploy's scripts/fetch_k3s_kubeconfig.py does (member spec §6):
//   clusters[0].name = <cluster>; clusters[0].cluster.server: "127.0.0.1" -> <public ip>
//   contexts[0] = {name: <cluster>, context: {cluster: <cluster>, namespace: <cluster>,
//                  user: <cluster>}}; current-context = <cluster>; users[0].name = <cluster>
// and dumped with sorted keys in block style (PyYAML's yaml.dump). Certificate and key data are
// copied untouched; the result holds the admin client key, so callers store it 0600.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace binder::firstboot::render {

// On a document without clusters/contexts/users lists: Errc::invalid_config.
common::Result<nlohmann::json> rewrite_kubeconfig(const nlohmann::json& k3s, const std::string& cluster,
                                                  const std::string& public_ip);
common::Result<std::string> rewrite_kubeconfig_yaml(std::string_view k3s_yaml, const std::string& cluster,
                                                    const std::string& public_ip);

// A k3s.yaml as k3s writes it, with placeholders instead of the CA/client certificate data (for
// `binder-firstboot render kubeconfig` before k3s has run).
std::string k3s_kubeconfig_placeholder();

}  // namespace binder::firstboot::render
