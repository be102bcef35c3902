// The Kubernetes client: paths, requests, converging apply. See kube_client.hpp.
#include "firstboot/k3s/kube_client.hpp"

#include <cctype>

#include "firstboot/env.hpp"
#include "firstboot/k3s/base64.hpp"

namespace binder::firstboot {
namespace {

using nlohmann::json;
namespace http = common::http;

std::string plural(std::string_view kind) {
  std::string k;
  for (char c : kind) {
    k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (k == "endpoints") {
    return k;
  }
  if (k.ends_with("s") || k.ends_with("x") || k.ends_with("ch") || k.ends_with("sh")) {
    return k + "es";
  }
  if (k.size() > 1 && k.back() == 'y' && std::string("aeiou").find(k[k.size() - 2]) == std::string::npos) {
    return k.substr(0, k.size() - 1) + "ies";
  }
  return k + "s";
}

// The Status message of an error response, else the body's start.
std::string status_message(const http::Response& r) {
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string()) {
    return fmt::format("{} {}", r.status, j["message"].get<std::string>());
  }
  return fmt::format("HTTP {}", r.status);
}

Error api_error(const http::Response& r, std::string_view what) {
  Errc code = r.status >= 500 || r.status == 429 ? Errc::temporary : Errc::external_tool;
  return Error{code, fmt::format("{}: {}", what, status_message(r)), std::nullopt, {}};
}

// Secrets: stringData -> data (base64), as the API server stores them.
json normalize(json obj) {
  if (obj.value("kind", "") == "Secret" && obj.contains("stringData")) {
    for (auto& [k, v] : obj["stringData"].items()) {
      obj["data"][k] = base64_encode(v.is_string() ? v.get<std::string>() : v.dump());
    }
    obj.erase("stringData");
  }
  return obj;
}

}  // namespace

const char* to_string(ApplyResult r) {
  return r == ApplyResult::created ? "created" : r == ApplyResult::updated ? "updated" : "unchanged";
}

ObjectRef ObjectRef::of(const json& o) {
  ObjectRef r;
  r.api_version = o.value("apiVersion", "");
  r.kind = o.value("kind", "");
  if (o.contains("metadata") && o["metadata"].is_object()) {
    r.ns = o["metadata"].value("namespace", "");
    r.name = o["metadata"].value("name", "");
  }
  return r;
}

std::string ObjectRef::describe() const {
  return ns.empty() ? fmt::format("{} '{}'", kind, name) : fmt::format("{} '{}/{}'", kind, ns, name);
}

std::string collection_path(std::string_view api_version, std::string_view kind, std::string_view ns) {
  std::string base = api_version.find('/') == std::string_view::npos ? fmt::format("/api/{}", api_version)
                                                                     : fmt::format("/apis/{}", api_version);
  if (!ns.empty()) {
    base += fmt::format("/namespaces/{}", ns);
  }
  return base + "/" + plural(kind);
}

std::string object_path(const ObjectRef& ref) {
  std::string p = collection_path(ref.api_version, ref.kind, ref.ns);
  return ref.name.empty() ? p : p + "/" + ref.name;
}

bool json_subset(const json& desired, const json& live) {
  if (desired.is_object()) {
    if (!live.is_object()) {
      return false;
    }
    for (auto& [k, v] : desired.items()) {
      if (k == "resourceVersion" || k == "uid" || k == "creationTimestamp" || k == "generation" ||
          k == "managedFields") {
        continue;
      }
      if (!live.contains(k) || !json_subset(v, live.at(k))) {
        return false;
      }
    }
    return true;
  }
  return desired == live;
}

bool node_is_ready(const json& node) {
  if (!node.contains("status") || !node["status"].contains("conditions")) {
    return false;
  }
  for (const auto& c : node["status"]["conditions"]) {
    if (c.value("type", "") == "Ready") {
      return c.value("status", "") == "True";
    }
  }
  return false;
}

bool deployment_ready(const json& d, std::string* reason) {
  auto set = [&](std::string why) {
    if (reason) {
      *reason = std::move(why);
    }
    return false;
  };
  const json empty = json::object();
  const json& spec = d.contains("spec") ? d["spec"] : empty;
  const json& st = d.contains("status") ? d["status"] : empty;
  const json& meta = d.contains("metadata") ? d["metadata"] : empty;
  auto num = [](const json& o, const char* k, std::int64_t dflt) {
    return o.contains(k) && o[k].is_number() ? o[k].get<std::int64_t>() : dflt;
  };
  std::int64_t want = num(spec, "replicas", 1);
  if (num(st, "observedGeneration", 0) < num(meta, "generation", 0)) {
    return set("rollout not observed yet");
  }
  if (st.contains("conditions")) {
    for (const auto& c : st["conditions"]) {
      if (c.value("type", "") == "Progressing" && c.value("reason", "") == "ProgressDeadlineExceeded") {
        return set("ProgressDeadlineExceeded");
      }
    }
  }
  for (const char* k : {"updatedReplicas", "readyReplicas", "availableReplicas"}) {
    if (num(st, k, 0) != want) {
      return set(fmt::format("{}/{} {}", num(st, k, 0), want, k));
    }
  }
  bool available = false;
  if (st.contains("conditions")) {
    for (const auto& c : st["conditions"]) {
      available = available || (c.value("type", "") == "Available" && c.value("status", "") == "True");
    }
  }
  if (!available && want > 0) {
    return set("condition Available is not True");
  }
  if (reason) {
    reason->clear();
  }
  return true;
}

KubeClient::KubeClient(KubeConfig config, http::Options base) : m_config(std::move(config)) {
  base.ca_pem = m_config.ca_pem;
  base.client_cert_pem = m_config.client_cert_pem;
  base.client_key_pem = m_config.client_key_pem;
  base.user_agent = "binder-firstboot";
  m_client = std::make_unique<http::Client>(std::move(base));
  m_transport = [c = m_client.get()](const http::Request& r) { return c->send(r); };
}

KubeClient::KubeClient(KubeConfig config, KubeTransport transport)
    : m_config(std::move(config)), m_transport(std::move(transport)) {}

KubeClient::~KubeClient() = default;
KubeClient::KubeClient(KubeClient&&) noexcept = default;

Result<http::Response> KubeClient::send(std::string method, const std::string& path, const std::string& body,
                                        std::string content_type) {
  http::Request req;
  req.method = std::move(method);
  std::string server = m_config.server;
  while (server.ends_with("/")) {
    server.pop_back();
  }
  req.url = server + path;
  req.headers.push_back({"Accept", "application/json"});
  if (!body.empty()) {
    req.headers.push_back({"Content-Type", std::move(content_type)});
    req.body = body;
  }
  if (!m_config.token.empty()) {
    req.headers.push_back({"Authorization", "Bearer " + m_config.token});
  }
  return m_transport(req);
}

Result<std::optional<json>> KubeClient::get(const ObjectRef& ref) {
  TRY_ASSIGN(auto r, send("GET", object_path(ref)));
  if (r.status == 404) {
    return std::optional<json>{};
  }
  if (r.status != 200) {
    return std::unexpected(api_error(r, "getting " + ref.describe()));
  }
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) {
    return common::fail(Errc::external_tool, "getting {}: response is not JSON", ref.describe());
  }
  return std::optional<json>(std::move(j));
}

Result<json> KubeClient::create(const json& object) {
  json obj = normalize(object);
  ObjectRef ref = ObjectRef::of(obj);
  TRY_ASSIGN(auto r, send("POST", collection_path(ref.api_version, ref.kind, ref.ns), obj.dump()));
  if (r.status != 201 && r.status != 200 && r.status != 202) {
    Error e = api_error(r, "creating " + ref.describe());
    if (r.status == 409) {
      e.code = Errc::precondition;  // AlreadyExists
    }
    return std::unexpected(std::move(e));
  }
  return json::parse(r.body, nullptr, false);
}

Result<json> KubeClient::replace(const json& object) {
  json obj = normalize(object);
  ObjectRef ref = ObjectRef::of(obj);
  TRY_ASSIGN(auto r, send("PUT", object_path(ref), obj.dump()));
  if (r.status != 200 && r.status != 201) {
    Error e = api_error(r, "replacing " + ref.describe());
    if (r.status == 409) {
      e.code = Errc::temporary;  // stale resourceVersion: a retry reads the new one
    }
    return std::unexpected(std::move(e));
  }
  return json::parse(r.body, nullptr, false);
}

Result<ApplyResult> KubeClient::apply(const json& object) {
  json desired = normalize(object);
  ObjectRef ref = ObjectRef::of(desired);
  for (int attempt = 0; attempt < 2; ++attempt) {
    TRY_ASSIGN(auto live, get(ref));
    if (!live) {
      auto created = create(desired);
      if (created) {
        return ApplyResult::created;
      }
      if (created.error().code != Errc::precondition) {
        return std::unexpected(created.error());
      }
      continue;  // created concurrently: compare with it
    }
    if (json_subset(desired, *live)) {
      return ApplyResult::unchanged;
    }
    json put = desired;
    put["metadata"]["resourceVersion"] = (*live)["metadata"].value("resourceVersion", "");
    auto replaced = replace(put);
    if (replaced) {
      return ApplyResult::updated;
    }
    if (replaced.error().code != Errc::temporary || attempt == 1) {
      return std::unexpected(replaced.error());
    }
  }
  return common::fail(Errc::temporary, "applying {}: conflicting concurrent updates", ref.describe());
}

Result<bool> KubeClient::remove(const ObjectRef& ref) {
  TRY_ASSIGN(auto r, send("DELETE", object_path(ref)));
  if (r.status == 404) {
    return false;
  }
  if (r.status != 200 && r.status != 202) {
    return std::unexpected(api_error(r, "deleting " + ref.describe()));
  }
  return true;
}

Result<std::vector<json>> KubeClient::list(std::string_view api_version, std::string_view kind,
                                           std::string_view ns, std::string_view selector) {
  std::vector<json> items;
  std::string cont;
  for (int page = 0; page < 100; ++page) {
    std::string path = collection_path(api_version, kind, ns) + "?limit=500";
    if (!selector.empty()) {
      path += "&labelSelector=" + http::percent_encode(selector);
    }
    if (!cont.empty()) {
      path += "&continue=" + http::percent_encode(cont);
    }
    TRY_ASSIGN(auto r, send("GET", path));
    if (r.status != 200) {
      return std::unexpected(api_error(r, fmt::format("listing {}", plural(kind))));
    }
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("items")) {
      return common::fail(Errc::external_tool, "listing {}: not a list", plural(kind));
    }
    for (auto& it : j["items"]) {
      items.push_back(std::move(it));
    }
    cont = j.contains("metadata") ? j["metadata"].value("continue", "") : "";
    if (cont.empty()) {
      break;
    }
  }
  return items;
}

Result<bool> KubeClient::api_ready() {
  TRY_ASSIGN(auto r, send("GET", "/readyz"));
  return r.status == 200;
}

Result<bool> KubeClient::node_ready(std::string_view node_name) {
  TRY_ASSIGN(auto node, get(ObjectRef{"v1", "Node", "", std::string(node_name)}));
  return node && node_is_ready(*node);
}

Result<std::vector<DeploymentStatus>> KubeClient::deployments(std::string_view ns,
                                                              std::string_view selector) {
  TRY_ASSIGN(auto items, list("apps/v1", "Deployment", ns, selector));
  std::vector<DeploymentStatus> out;
  for (const auto& d : items) {
    DeploymentStatus s;
    s.name = d["metadata"].value("name", "");
    s.ready = deployment_ready(d, &s.reason);
    out.push_back(std::move(s));
  }
  return out;
}

Result<void> KubeClient::wait_until(Clock& clock, std::string_view what, std::chrono::milliseconds timeout,
                                    std::chrono::milliseconds interval,
                                    const std::function<Result<bool>()>& probe) {
  auto deadline = clock.now() + timeout;
  std::string last;
  while (true) {
    auto r = probe();
    if (r && *r) {
      return {};
    }
    if (!r) {
      if (r.error().code != Errc::network && r.error().code != Errc::temporary) {
        return std::unexpected(r.error());
      }
      last = r.error().to_string();
    }
    if (clock.now() >= deadline) {
      return common::fail(Errc::temporary, "timed out after {}s waiting for {}{}",
                          std::chrono::duration_cast<std::chrono::seconds>(timeout).count(), what,
                          last.empty() ? "" : " (last error: " + last + ")");
    }
    clock.sleep(interval);
  }
}

}  // namespace binder::firstboot
