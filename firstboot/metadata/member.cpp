// Member helpers: defaults, the secrets view and the normalized JSON form (member.json).
#include "firstboot/metadata/member.hpp"

namespace binder::firstboot {
namespace {

std::string maybe_redact(const std::string& v, Redact r) {
  return (r == Redact::yes && !v.empty()) ? std::string("<redacted>") : v;
}

}  // namespace

const char* to_string(Mode m) { return m == Mode::federation ? "federation" : "standalone"; }
const char* to_string(NodeRole r) { return r == NodeRole::server ? "server" : "agent"; }
const char* to_string(NtpMode m) { return m == NtpMode::add ? "add" : "replace"; }
const char* to_string(RegistryKind k) {
  switch (k) {
    case RegistryKind::harbor_s3:
      return "harbor-s3";
    case RegistryKind::harbor_local:
      return "harbor-local";
    case RegistryKind::external:
      return "external";
  }
  return "?";
}

bool runs_harbor(const Member& m) { return !m.registry || m.registry->harbor(); }

std::string url_host(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  auto end = url.find_first_of("/?#", start);
  std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (auto at = host.rfind('@'); at != std::string::npos)
    host = host.substr(at + 1);
  return host;
}

std::string external_image_prefix(const RegistryConfig& r) {
  if (!r.image_prefix.empty())
    return r.image_prefix;
  std::string host = url_host(r.url);
  if (host == "index.docker.io" || host == "registry-1.docker.io" || host == "registry.hub.docker.com") {
    host = "docker.io";
  }
  return host + "/" + r.username + "/binder-";
}

std::string Member::registry_host() const {
  if (registry && !registry->harbor()) {
    return url_host(registry->url);
  }
  if (registry && !registry->host.empty()) {
    return registry->host;
  }
  return "registry." + fqdn();
}

std::vector<std::pair<std::string, std::string>> Member::secrets() const {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const char* key, const std::string& v) {
    if (!v.empty()) {
      out.emplace_back(key, v);
    }
  };
  if (dns) {
    add("dns.api_token", dns->api_token);
  }
  if (registry && registry->s3) {
    add("registry.s3.access_key", registry->s3->access_key);
    add("registry.s3.secret_key", registry->s3->secret_key);
  }
  if (registry) {
    add("registry.password", registry->password);
  }
  add("node.token", node.token);
  add("binderhub.github_token", binderhub.github_token);
  return out;
}

nlohmann::json Member::to_json(Redact r) const {
  using nlohmann::json;
  json j;
  j["name"] = name;
  j["cluster_name"] = cluster();
  j["domain"] = domain;
  j["mode"] = to_string(mode);
  j["public_ip"] = public_ip ? *public_ip : std::string("auto");
  j["public_ip_private_ok"] = public_ip_private_ok;
  if (dns) {
    j["dns"] = {
        {"provider", dns->provider}, {"zone", dns->zone}, {"api_token", maybe_redact(dns->api_token, r)}};
    if (!dns->zone_id.empty())
      j["dns"]["zone_id"] = dns->zone_id;
  }
  j["tls"] = {{"email", tls.email}, {"issuer", tls.issuer}};
  if (registry) {
    // The s3 field decides for Harbor kinds (members built in code may leave kind at its default),
    // so member.json always loads back.
    RegistryKind kind = registry->harbor()
                            ? (registry->s3 ? RegistryKind::harbor_s3 : RegistryKind::harbor_local)
                            : RegistryKind::external;
    json reg = {{"kind", to_string(kind)}};
    if (registry->harbor()) {
      reg["host"] = registry->host;
      reg["project"] = registry->project;
      reg["quota_gb"] = registry->quota_gb;
    } else {
      reg["url"] = registry->url;
      reg["username"] = registry->username;
      reg["password"] = maybe_redact(registry->password, r);
      reg["image_prefix"] = external_image_prefix(*registry);
    }
    if (registry->s3) {
      const auto& s = *registry->s3;
      reg["s3"] = {{"endpoint", s.endpoint},
                   {"region", s.region},
                   {"bucket", s.bucket},
                   {"access_key", maybe_redact(s.access_key, r)},
                   {"secret_key", maybe_redact(s.secret_key, r)}};
    }
    j["registry"] = reg;
  }
  j["binderhub"] = {{"chart_version", binderhub.chart_version}, {"values", binderhub.values}};
  if (!binderhub.github_token.empty())
    j["binderhub"]["github_token"] = maybe_redact(binderhub.github_token, r);
  std::string disk = node.extra_disk.kind == ExtraDiskSpec::Kind::automatic ? "auto"
                     : node.extra_disk.kind == ExtraDiskSpec::Kind::none    ? "none"
                                                                            : node.extra_disk.device;
  json mirrors = json::object();
  for (const auto& [k, v] : node.registry_mirrors) {
    mirrors[k] = {{"endpoint", v}};
  }
  j["node"] = {{"role", to_string(node.role)},
               {"server_url", node.server_url},
               {"token", maybe_redact(node.token, r)},
               {"extra_disk", disk},
               {"ntp", node.ntp},
               {"ntp_mode", to_string(node.ntp_mode)},
               {"max_pods_per_gib", node.max_pods_per_gib ? json(*node.max_pods_per_gib) : json(nullptr)},
               {"registries", {{"mirrors", mirrors}}}};
  j["operators"] = {{"ssh_authorized_keys", operators.ssh_authorized_keys}, {"user", operators.user}};
  j["k3s"] = {{"auto_upgrade", k3s.auto_upgrade}};
  j["endpoints"] = {
      {"cloudflare", endpoints.cloudflare}, {"harbor", endpoints.harbor}, {"ca_file", endpoints.ca_file}};
  j["status_url"] = status_url;
  j["readiness"] = {{"timeout_minutes", readiness.timeout_minutes},
                    {"prime_versions_url", readiness.prime_versions_url},
                    {"test_launch", readiness.test_launch},
                    {"active_hosts_url", readiness.active_hosts_url},
                    {"rotation_timeout_minutes", readiness.rotation_timeout_minutes}};
  return j;
}

}  // namespace binder::firstboot
