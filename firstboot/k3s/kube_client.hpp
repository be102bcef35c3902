// A small Kubernetes API client for the local k3s (api-notes §3): credentials from the k3s admin
// kubeconfig (/etc/rancher/k3s/k3s.yaml: server, CA data, client cert/key data), TLS verified with
// that CA, mutual TLS with the client certificate. Every request has timeouts and bounded retries
// (common/http.hpp Client). Objects are nlohmann::json; errors carry the API's Status message.
// Secrets: a Secret's data never appears in errors or logs.
//
// Idempotent writes: apply() is GET, then POST when missing, PUT with the live resourceVersion
// when the desired fields differ, nothing when they already match ("desired is a subset of live").
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http.hpp"
#include "common/result.hpp"
#include "firstboot/step.hpp"

namespace binder::firstboot {

class Clock;

struct KubeConfig {
  std::string server;           // "https://127.0.0.1:6443"
  std::string ca_pem;           // certificate-authority-data, decoded
  std::string client_cert_pem;  // client-certificate-data, decoded
  std::string client_key_pem;   // client-key-data, decoded (secret)
  std::string token;            // users[].user.token when present (secret)
};

// Parses a kubeconfig (current-context, else the first context/cluster/user). `origin` names the
// file in errors. Errc::invalid_config when fields are missing or not base64.
Result<KubeConfig> parse_kubeconfig(std::string_view yaml, std::string_view origin);
Result<KubeConfig> load_kubeconfig(const std::filesystem::path& path);

// Identifies one object. `ns` empty = cluster-scoped (Namespace, Node, ClusterIssuer).
struct ObjectRef {
  std::string api_version;  // "v1", "apps/v1", "helm.cattle.io/v1"
  std::string kind;         // "Secret", "HelmChart"
  std::string ns;
  std::string name;
  // From an object's apiVersion/kind/metadata.namespace/metadata.name.
  static ObjectRef of(const nlohmann::json& object);
  std::string describe() const;  // "HelmChart kube-system/harbor"
};

// "/api/v1/namespaces/x/secrets" or "/apis/helm.cattle.io/v1/namespaces/x/helmcharts" (name
// appended when non-empty). Plural = lower-case kind + "s" ("es" after s/x; "ies" after a
// consonant + y); Endpoints and kinds already plural are kept.
std::string collection_path(std::string_view api_version, std::string_view kind, std::string_view ns);
std::string object_path(const ObjectRef& ref);

enum class ApplyResult { created, updated, unchanged };
const char* to_string(ApplyResult r);

struct DeploymentStatus {
  std::string name;
  bool ready = false;
  std::string reason;  // why not ready: "1/2 available", "ProgressDeadlineExceeded"
};

// Transport seam: one HTTP exchange. The default sends through common::http::Client with the
// kubeconfig's CA and client certificate; tests may substitute a function.
using KubeTransport = std::function<Result<common::http::Response>(const common::http::Request&)>;

class KubeClient {
 public:
  // `base` sets timeouts/retries; the CA and client certificate come from `config`.
  explicit KubeClient(KubeConfig config, common::http::Options base = {});
  KubeClient(KubeConfig config, KubeTransport transport);
  ~KubeClient();
  KubeClient(KubeClient&&) noexcept;

  // The object, or nullopt on 404. Other statuses: Errc::network (5xx, transport; temporary
  // when retries ran out) or Errc::external_tool with the Status message.
  Result<std::optional<nlohmann::json>> get(const ObjectRef& ref);
  // POST; returns the created object. 409 AlreadyExists is Errc::precondition (use apply()).
  Result<nlohmann::json> create(const nlohmann::json& object);
  // PUT of the whole object (metadata.resourceVersion given: optimistic concurrency).
  Result<nlohmann::json> replace(const nlohmann::json& object);
  // Converges: create, update (PUT with resourceVersion, one retry on 409 Conflict) or nothing.
  // Secret stringData is compared against (and sent as) base64 data.
  Result<ApplyResult> apply(const nlohmann::json& object);
  // DELETE; true when something was deleted, false when it was already gone.
  Result<bool> remove(const ObjectRef& ref);
  // items[] of a list (follows `continue`), optionally filtered by a label selector.
  Result<std::vector<nlohmann::json>> list(std::string_view api_version, std::string_view kind,
                                           std::string_view ns, std::string_view label_selector = {});

  // GET /readyz == 200 "ok".
  Result<bool> api_ready();
  // Node condition Ready == "True"; false when the node does not exist yet.
  Result<bool> node_ready(std::string_view node_name);
  // Readiness of every Deployment matching the selector in `ns` (api-notes §3 rules:
  // observedGeneration, updated/ready/available == spec.replicas, Available=True; absent = 0).
  Result<std::vector<DeploymentStatus>> deployments(std::string_view ns,
                                                    std::string_view label_selector = {});

  // Polls `probe` every `interval` until it returns true or `timeout` passes (then
  // Errc::temporary naming `what`). Probe errors of kind network/temporary count as "not yet".
  static Result<void> wait_until(Clock& clock, std::string_view what, std::chrono::milliseconds timeout,
                                 std::chrono::milliseconds interval,
                                 const std::function<Result<bool>()>& probe);

  const KubeConfig& config() const { return m_config; }

 private:
  Result<common::http::Response> send(std::string method, const std::string& path,
                                      const std::string& body = {},
                                      std::string content_type = "application/json");
  KubeConfig m_config;
  KubeTransport m_transport;
  std::unique_ptr<common::http::Client> m_client;
};

// Pure readiness rules, exposed for tests and for H6's waits.
bool deployment_ready(const nlohmann::json& deployment, std::string* reason = nullptr);
bool node_is_ready(const nlohmann::json& node);
// True when every field of `desired` appears with the same value in `live` (objects compared
// recursively; arrays and scalars must be equal). metadata.resourceVersion/uid etc. ignored.
bool json_subset(const nlohmann::json& desired, const nlohmann::json& live);

}  // namespace binder::firstboot
