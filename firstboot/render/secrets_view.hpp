// The secret values a rendered document may need, by stable name. Rendering never generates or
// stores secrets: the federation steps fill a SecretsView from the journal (generated secrets,
// robot credentials) and the member metadata (S3 keys); `binder-firstboot render` leaves it empty
// so every secret prints as a placeholder "<secret:NAME>". Documents that carry secret values
// are only ever sent to the cluster as Kubernetes Secrets (HelmChart valuesSecrets) or written
// 0600 by the export step.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "firstboot/metadata/member.hpp"

namespace binder::firstboot::render {

// Secret names (the journal keys of H6's secrets step should use the same names).
namespace secret {
inline constexpr std::string_view harbor_admin_password = "harbor-admin-password";
inline constexpr std::string_view harbor_secret_key = "harbor-secret-key";                // 16 chars
inline constexpr std::string_view harbor_core_secret = "harbor-core-secret";              // 16 chars
inline constexpr std::string_view harbor_xsrf_key = "harbor-xsrf-key";                    // 32 chars
inline constexpr std::string_view harbor_token_key = "harbor-token-key";                  // PEM RSA key
inline constexpr std::string_view harbor_token_cert = "harbor-token-cert";                // PEM, signed by it
inline constexpr std::string_view harbor_jobservice_secret = "harbor-jobservice-secret";  // 16
inline constexpr std::string_view harbor_registry_secret = "harbor-registry-secret";      // 16
inline constexpr std::string_view harbor_registry_password = "harbor-registry-password";
inline constexpr std::string_view harbor_registry_htpasswd = "harbor-registry-htpasswd";  // user:bcrypt
inline constexpr std::string_view grafana_admin_password = "grafana-admin-password";
inline constexpr std::string_view s3_access_key = "s3-access-key";
inline constexpr std::string_view s3_secret_key = "s3-secret-key";
inline constexpr std::string_view builder_robot_secret = "harbor-builder-robot-secret";
inline constexpr std::string_view puller_robot_secret = "harbor-puller-robot-secret";
inline constexpr std::string_view events_archiver_key = "events-archiver-service-account-key";
inline constexpr std::string_view github_token = "github-token";  // metadata binderhub.github_token
inline constexpr std::string_view registry_password =
    "registry-password";  // metadata registry.password (external)
}  // namespace secret

class SecretsView {
 public:
  SecretsView() = default;
  // A view holding the member's own secrets (S3 keys) and nothing else.
  static SecretsView from_member(const Member& member);

  void set(std::string_view name, std::string value) { m_values[std::string(name)] = std::move(value); }
  bool has(std::string_view name) const { return m_values.count(std::string(name)) != 0; }
  // The value, or placeholder(name) when it is not known.
  std::string get(std::string_view name) const;
  static std::string placeholder(std::string_view name) { return "<secret:" + std::string(name) + ">"; }

 private:
  std::map<std::string, std::string> m_values;
};

}  // namespace binder::firstboot::render
