// The binder_member schema: one reader per section. Each read_* function checks the keys of its
// mapping against the list it knows (unknown keys are errors with a suggestion) and converts
// values, recording a Diagnostic for every problem instead of stopping at the first.
#include "firstboot/metadata/validate.hpp"

#include "firstboot/address_class.hpp"

#include <arpa/inet.h>

#include <regex>

#include "common/spellcheck.hpp"

namespace binder::firstboot {
namespace {

using nlohmann::json;

class Reader {
 public:
  Reader(const SourceDoc& doc, std::vector<Diagnostic>& diags) : m_doc(doc), m_diags(diags) {}

  void error(const std::string& path, std::string message) {
    m_diags.push_back({m_doc.where(path), "binder_member" + (path.empty() ? "" : "." + path),
                       std::move(message)});
  }

  // The mapping at `path` (nullptr if absent); reports non-mappings and unknown keys.
  const json* object(const json& parent, const std::string& key, const std::string& path,
                     const std::vector<std::string>& known) {
    if (!parent.contains(key) || parent.at(key).is_null()) {
      return nullptr;
    }
    const json& v = parent.at(key);
    if (!v.is_object()) {
      error(path, fmt::format("expected a mapping, got {}", describe(v)));
      return nullptr;
    }
    check_keys(v, path, known);
    return &v;
  }

  void check_keys(const json& obj, const std::string& path, const std::vector<std::string>& known) {
    for (auto& [k, _] : obj.items()) {
      if (k.starts_with("x-") || std::find(known.begin(), known.end(), k) != known.end()) {
        continue;
      }
      auto s = common::suggest(k, known);
      error(join_path(path, k), s ? fmt::format("unknown key '{}', did you mean '{}'?", k, *s)
                                  : fmt::format("unknown key '{}'", k));
    }
  }

  std::optional<std::string> string(const json& obj, const std::string& key,
                                    const std::string& path) {
    if (!obj.contains(key) || obj.at(key).is_null()) {
      return std::nullopt;
    }
    const json& v = obj.at(key);
    if (v.is_string()) {
      return v.get<std::string>();
    }
    if (v.is_number() || v.is_boolean()) {
      return v.dump();
    }
    error(path, fmt::format("expected a string, got {}", describe(v)));
    return std::nullopt;
  }

  std::string required(const json& obj, const std::string& key, const std::string& path) {
    auto v = string(obj, key, path);
    if (!v && !(obj.contains(key) && !obj.at(key).is_null())) {
      error(path, "required key is missing");
    } else if (v && v->empty()) {
      error(path, "must not be empty");
    }
    return v.value_or("");
  }

  std::vector<std::string> strings(const json& obj, const std::string& key,
                                   const std::string& path) {
    std::vector<std::string> out;
    if (!obj.contains(key) || obj.at(key).is_null()) {
      return out;
    }
    const json& v = obj.at(key);
    if (!v.is_array()) {
      error(path, fmt::format("expected a list of strings, got {}", describe(v)));
      return out;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) {
        error(fmt::format("{}[{}]", path, i), fmt::format("expected a string, got {}", describe(v[i])));
      } else {
        out.push_back(v[i].get<std::string>());
      }
    }
    return out;
  }

  template <typename E>
  std::optional<E> choice(const json& obj, const std::string& key, const std::string& path,
                          const std::vector<std::pair<std::string, E>>& options) {
    auto v = string(obj, key, path);
    if (!v) {
      return std::nullopt;
    }
    std::vector<std::string> names;
    for (const auto& [n, e] : options) {
      if (n == *v) {
        return e;
      }
      names.push_back(n);
    }
    auto s = common::suggest(*v, names);
    std::string list;
    for (const auto& n : names) {
      list += (list.empty() ? "'" : ", '") + n + "'";
    }
    error(path, fmt::format("expected one of {}, got '{}'{}", list, *v,
                            s ? fmt::format(", did you mean '{}'?", *s) : ""));
    return std::nullopt;
  }

  static std::string describe(const json& v) {
    switch (v.type()) {
      case json::value_t::object:
        return "a mapping";
      case json::value_t::array:
        return "a list";
      case json::value_t::boolean:
        return fmt::format("boolean {}", v.dump());
      case json::value_t::null:
        return "null";
      case json::value_t::string:
        return fmt::format("'{}'", v.get<std::string>());
      default:
        return fmt::format("number {}", v.dump());
    }
  }

 private:
  const SourceDoc& m_doc;
  std::vector<Diagnostic>& m_diags;
};

bool is_dns_label(const std::string& s) {
  static const std::regex k_label("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  return std::regex_match(s, k_label);
}

bool is_hostname(const std::string& s) {
  static const std::regex k_host(
      R"(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+)");
  return s.size() <= 253 && std::regex_match(s, k_host);
}

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

void read_node(Reader& r, const json& root, Member& m) {
  const json* n = r.object(root, "node", "node",
                           {"role", "server_url", "token", "extra_disk", "ntp", "ntp_mode", "max_pods_per_gib",
                            "registries"});
  if (!n) {
    return;
  }
  if (auto role = r.choice<NodeRole>(*n, "role", "node.role",
                                     {{"server", NodeRole::server}, {"agent", NodeRole::agent}})) {
    m.node.role = *role;
  }
  m.node.server_url = r.string(*n, "server_url", "node.server_url").value_or("");
  m.node.token = r.string(*n, "token", "node.token").value_or("");
  if (m.node.role == NodeRole::agent) {
    if (!m.node.server_url.starts_with("https://")) {
      r.error("node.server_url", "an agent node needs the server URL (https://host:6443)");
    }
    if (m.node.token.empty()) {
      r.error("node.token", "an agent node needs the server's join token");
    }
  }
  if (auto d = r.string(*n, "extra_disk", "node.extra_disk")) {
    if (*d == "auto") {
      m.node.extra_disk.kind = ExtraDiskSpec::Kind::automatic;
    } else if (*d == "none") {
      m.node.extra_disk.kind = ExtraDiskSpec::Kind::none;
    } else if (d->starts_with("/dev/") && d->size() > 5) {
      m.node.extra_disk = {ExtraDiskSpec::Kind::device, *d};
    } else {
      r.error("node.extra_disk", fmt::format("expected 'auto', 'none' or a /dev/ path, got '{}'", *d));
    }
  }
  m.node.ntp = r.strings(*n, "ntp", "node.ntp");
  if (auto mode = r.choice<NtpMode>(*n, "ntp_mode", "node.ntp_mode",
                                    {{"add", NtpMode::add}, {"replace", NtpMode::replace}})) {
    m.node.ntp_mode = *mode;
    if (*mode == NtpMode::replace && m.node.ntp.empty()) {
      r.error("node.ntp_mode", "replace needs a node.ntp list (it would leave the machine without "
                               "NTP servers)");
    }
  }
  if (n->contains("max_pods_per_gib") && !n->at("max_pods_per_gib").is_null()) {
    const json& f = n->at("max_pods_per_gib");
    if (!f.is_number() || f.get<double>() <= 0 || f.get<double>() > 50) {
      r.error("node.max_pods_per_gib", fmt::format("expected a number in (0, 50], got {}",
                                                   Reader::describe(f)));
    } else {
      m.node.max_pods_per_gib = f.get<double>();
    }
  }
  const json* regs = r.object(*n, "registries", "node.registries", {"mirrors"});
  if (!regs || !regs->contains("mirrors") || regs->at("mirrors").is_null()) {
    return;
  }
  const json& mirrors = regs->at("mirrors");
  if (!mirrors.is_object()) {
    r.error("node.registries.mirrors", "expected a mapping of registry name to {endpoint: [...]}");
    return;
  }
  for (auto& [name, entry] : mirrors.items()) {
    std::string path = "node.registries.mirrors." + name;
    if (!entry.is_object()) {
      r.error(path, "expected a mapping with 'endpoint'");
      continue;
    }
    r.check_keys(entry, path, {"endpoint"});
    auto eps = r.strings(entry, "endpoint", path + ".endpoint");
    for (const auto& e : eps) {
      if (!e.starts_with("https://") && !e.starts_with("http://")) {
        r.error(path + ".endpoint", fmt::format("endpoint '{}' is not an http(s) URL", e));
      }
    }
    if (eps.empty()) {
      r.error(path + ".endpoint", "at least one endpoint URL is required");
    }
    m.node.registry_mirrors[name] = eps;
  }
}

// registry: kind (harbor-s3 | harbor-local | external; absent: harbor-s3 when s3 is given, else
// harbor-local), the Harbor keys (host, project, quota_gb, s3) or the external ones (url,
// username, password, image_prefix). A key of the other family is an error naming the kind.
void read_registry(Reader& r, const json& root, Member& m) {
  static const std::vector<std::string> k_harbor_keys = {"host", "s3", "project", "quota_gb"};
  static const std::vector<std::string> k_external_keys = {"url", "username", "password", "image_prefix"};
  std::vector<std::string> known = {"kind"};
  known.insert(known.end(), k_harbor_keys.begin(), k_harbor_keys.end());
  known.insert(known.end(), k_external_keys.begin(), k_external_keys.end());
  const json* reg = r.object(root, "registry", "registry", known);
  if (!reg) {
    if (m.mode == Mode::standalone) {
      m.registry = RegistryConfig{};  // the standalone default: harbor-local
    }
    return;
  }
  RegistryConfig rc;
  bool has_s3 = reg->contains("s3") && !reg->at("s3").is_null();
  rc.kind = has_s3 ? RegistryKind::harbor_s3 : RegistryKind::harbor_local;
  if (auto k = r.choice<RegistryKind>(*reg, "kind", "registry.kind",
                                      {{"harbor-s3", RegistryKind::harbor_s3},
                                       {"harbor-local", RegistryKind::harbor_local},
                                       {"external", RegistryKind::external}})) {
    rc.kind = *k;
  } else if (reg->contains("kind") && !reg->at("kind").is_null()) {
    m.registry = rc;
    return;  // reported; the other checks would only add noise
  }
  const auto& foreign = rc.harbor() ? k_external_keys : k_harbor_keys;
  for (const auto& key : foreign) {
    if (reg->contains(key) && !(key == "s3" && !has_s3)) {
      r.error("registry." + key, fmt::format("not used with registry.kind {} ({})", to_string(rc.kind),
                                             rc.harbor() ? "the external registry keys are url, username, "
                                                           "password, image_prefix"
                                                         : "the Harbor keys are host, project, quota_gb, s3"));
    }
  }
  // Federation members run the mybinder chart's own Harbor: harbor-s3 (what real members use),
  // or harbor-local as accepted so far (a registry section without s3, e.g. the smoke boot's).
  if (m.mode == Mode::federation && rc.kind == RegistryKind::external) {
    r.error("registry.kind", "external is for standalone members: a federation member runs the "
                             "mybinder chart's Harbor (use harbor-s3 with registry.s3)");
  }
  if (rc.kind == RegistryKind::external) {
    rc.url = r.required(*reg, "url", "registry.url");
    if (!rc.url.empty() && ((!rc.url.starts_with("https://") && !rc.url.starts_with("http://")) ||
                            url_host(rc.url).empty())) {
      r.error("registry.url", fmt::format("'{}' is not an http(s) URL", rc.url));
    }
    rc.username = r.required(*reg, "username", "registry.username");
    rc.password = r.required(*reg, "password", "registry.password");
    rc.image_prefix = r.string(*reg, "image_prefix", "registry.image_prefix").value_or("");
    static const std::regex k_prefix(R"([a-z0-9.:-]+(/[a-z0-9._-]+)+/?[a-z0-9._-]*)");
    if (!rc.image_prefix.empty() && !std::regex_match(rc.image_prefix, k_prefix)) {
      r.error("registry.image_prefix",
              fmt::format("'{}' is not an image name prefix ('ghcr.io/org/binder-': registry host, "
                          "lower-case path)", rc.image_prefix));
    }
    m.registry = rc;
    return;
  }
  rc.host = r.string(*reg, "host", "registry.host").value_or("");
  if (!rc.host.empty() && !is_hostname(rc.host)) {
    r.error("registry.host", fmt::format("'{}' is not a host name", rc.host));
  }
  rc.project = r.string(*reg, "project", "registry.project").value_or(rc.project);
  if (reg->contains("quota_gb") && !reg->at("quota_gb").is_null()) {
    const json& q = reg->at("quota_gb");
    if (!q.is_number_integer() || (q.get<std::int64_t>() < 1 && q.get<std::int64_t>() != -1)) {
      r.error("registry.quota_gb", fmt::format("expected a positive integer or -1, got {}",
                                               Reader::describe(q)));
    } else {
      rc.quota_gb = q.get<std::int64_t>();
    }
  }
  if (rc.kind == RegistryKind::harbor_local && has_s3) {
    r.error("registry.s3", "not used with registry.kind harbor-local (images stay on the local "
                           "disk); use kind harbor-s3");
  } else if (const json* s3 = r.object(*reg, "s3", "registry.s3",
                                       {"endpoint", "region", "bucket", "access_key", "secret_key"})) {
    S3Config c;
    c.endpoint = r.required(*s3, "endpoint", "registry.s3.endpoint");
    if (!c.endpoint.empty() && !c.endpoint.starts_with("https://") &&
        !c.endpoint.starts_with("http://")) {
      r.error("registry.s3.endpoint", fmt::format("'{}' is not an http(s) URL", c.endpoint));
    }
    c.region = r.string(*s3, "region", "registry.s3.region").value_or("us-east-1");
    c.bucket = r.required(*s3, "bucket", "registry.s3.bucket");
    c.access_key = r.required(*s3, "access_key", "registry.s3.access_key");
    c.secret_key = r.required(*s3, "secret_key", "registry.s3.secret_key");
    rc.s3 = c;
  } else if (rc.kind == RegistryKind::harbor_s3) {
    r.error("registry.s3", "required with registry.kind harbor-s3 (endpoint, bucket, access_key, "
                           "secret_key)");
  }
  m.registry = rc;
}

}  // namespace

std::string Diagnostic::to_string() const {
  return fmt::format("{}: error: {}: {}", where.to_string(), path, message);
}

Member member_from_doc(const SourceDoc& doc, std::vector<Diagnostic>& diags) {
  Reader r(doc, diags);
  Member m;
  const json& root = doc.value;
  if (!root.is_object()) {
    r.error("", fmt::format("expected a mapping, got {}", Reader::describe(root)));
    return m;
  }
  r.check_keys(root, "", {"name", "cluster_name", "domain", "mode", "public_ip", "public_ip_private_ok", "dns", "tls", "registry",
                          "binderhub", "node", "operators", "k3s", "endpoints"});
  m.name = r.required(root, "name", "name");
  if (!m.name.empty() && !is_dns_label(m.name)) {
    r.error("name", fmt::format("'{}' is not a DNS label (lower-case letters, digits and '-', "
                                "at most 63)", m.name));
  }
  if (auto cluster = r.string(root, "cluster_name", "cluster_name")) {
    if (!is_dns_label(*cluster)) {
      r.error("cluster_name", fmt::format("'{}' is not a DNS label (lower-case letters, digits "
                                          "and '-', at most 63)", *cluster));
    } else {
      m.cluster_name = *cluster;
    }
  }
  m.domain = r.required(root, "domain", "domain");
  if (!m.domain.empty() && !is_hostname(m.domain)) {
    r.error("domain", fmt::format("'{}' is not a domain name", m.domain));
  }
  if (auto mode = r.choice<Mode>(root, "mode", "mode",
                                 {{"federation", Mode::federation},
                                  {"standalone", Mode::standalone}})) {
    m.mode = *mode;
  }
  if (auto ip = r.string(root, "public_ip", "public_ip"); ip && *ip != "auto") {
    if (!is_ip(*ip)) {
      r.error("public_ip", fmt::format("expected 'auto' or an IP address, got '{}'", *ip));
    } else {
      m.public_ip = *ip;
    }
  }
  if (root.contains("public_ip_private_ok") && !root.at("public_ip_private_ok").is_null()) {
    const json& ok = root.at("public_ip_private_ok");
    if (!ok.is_boolean()) {
      r.error("public_ip_private_ok",
              fmt::format("expected true or false, got {}", Reader::describe(ok)));
    } else if (ok.get<bool>() && !m.public_ip) {
      r.error("public_ip_private_ok",
              "true needs an explicit public_ip (an address, not 'auto'): only an address the "
              "metadata states may be private");
    } else {
      m.public_ip_private_ok = ok.get<bool>();
    }
  }
  // A private address only when the metadata says it is intended (address_class.hpp).
  if (m.public_ip && !m.public_ip_private_ok) {
    if (auto c = classify_address(*m.public_ip); c && !c->publishable) {
      r.error("public_ip",
              fmt::format("{} is {} ({}) and would be published in DNS, the k3s tls-san and the "
                          "kubeconfig; set the public address, or add public_ip_private_ok: true "
                          "if this member is meant to be reached on that network",
                          *m.public_ip, c->name, c->cidr));
    }
  }
  if (const json* dns = r.object(root, "dns", "dns", {"provider", "zone", "zone_id", "api_token"})) {
    DnsConfig d;
    if (auto p = r.choice<std::string>(*dns, "provider", "dns.provider",
                                       {{"cloudflare", "cloudflare"}})) {
      d.provider = *p;
    }
    d.zone = r.string(*dns, "zone", "dns.zone").value_or(m.domain);
    d.api_token = r.required(*dns, "api_token", "dns.api_token");
    d.zone_id = r.string(*dns, "zone_id", "dns.zone_id").value_or("");
    static const std::regex k_zone_id("[0-9a-f]{32}");
    if (!d.zone_id.empty() && !std::regex_match(d.zone_id, k_zone_id)) {
      r.error("dns.zone_id", fmt::format("'{}' is not a Cloudflare zone id (32 lowercase hex digits, "
                                         "shown on the zone's Overview page)", d.zone_id));
    }
    m.dns = d;
  } else if (m.mode == Mode::federation) {
    r.error("dns", "required in federation mode (provider, zone, api_token)");
  }
  if (const json* tls = r.object(root, "tls", "tls", {"email", "issuer"})) {
    m.tls.email = r.string(*tls, "email", "tls.email").value_or("");
    m.tls.issuer = r.string(*tls, "issuer", "tls.issuer").value_or(m.tls.issuer);
  }
  if (!m.tls.email.empty() && m.tls.email.find('@') == std::string::npos) {
    r.error("tls.email", fmt::format("'{}' is not an email address", m.tls.email));
  } else if (m.tls.email.empty() && m.mode == Mode::federation) {
    r.error("tls.email", "required in federation mode (the ACME account email)");
  }
  read_registry(r, root, m);
  if (!m.registry && m.mode == Mode::federation) {
    r.error("registry", "required in federation mode");
  }
  if (const json* bh = r.object(root, "binderhub", "binderhub", {"chart_version", "values", "github_token"})) {
    m.binderhub.chart_version = r.string(*bh, "chart_version", "binderhub.chart_version").value_or("");
    m.binderhub.github_token = r.string(*bh, "github_token", "binderhub.github_token").value_or("");
    if (bh->contains("values") && !bh->at("values").is_null()) {
      if (!bh->at("values").is_object()) {
        r.error("binderhub.values", "expected a mapping of helm values");
      } else {
        m.binderhub.values = bh->at("values");
      }
    }
  }
  read_node(r, root, m);
  if (const json* ops = r.object(root, "operators", "operators", {"ssh_authorized_keys", "user"})) {
    m.operators.ssh_authorized_keys =
        r.strings(*ops, "ssh_authorized_keys", "operators.ssh_authorized_keys");
    for (std::size_t i = 0; i < m.operators.ssh_authorized_keys.size(); ++i) {
      const auto& k = m.operators.ssh_authorized_keys[i];
      static const std::regex k_key(R"((ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+( .*)?)");
      if (!std::regex_match(k, k_key)) {
        r.error(fmt::format("operators.ssh_authorized_keys[{}]", i),
                "not an OpenSSH public key line ('ssh-ed25519 AAAA... comment')");
      }
    }
    m.operators.user = r.string(*ops, "user", "operators.user").value_or("root");
    if (!is_dns_label(m.operators.user) && m.operators.user != "root") {
      r.error("operators.user", fmt::format("'{}' is not a user name", m.operators.user));
    }
  }
  if (const json* k3s = r.object(root, "k3s", "k3s", {"auto_upgrade"})) {
    if (k3s->contains("auto_upgrade") && !k3s->at("auto_upgrade").is_null()) {
      if (!k3s->at("auto_upgrade").is_boolean()) {
        r.error("k3s.auto_upgrade", fmt::format("expected true or false, got {}",
                                                Reader::describe(k3s->at("auto_upgrade"))));
      } else {
        m.k3s.auto_upgrade = k3s->at("auto_upgrade").get<bool>();
      }
    }
  }
  if (const json* ep = r.object(root, "endpoints", "endpoints", {"cloudflare", "harbor", "ca_file"})) {
    for (auto [key, field] : {std::pair{"cloudflare", &m.endpoints.cloudflare},
                              std::pair{"harbor", &m.endpoints.harbor}}) {
      *field = r.string(*ep, key, std::string("endpoints.") + key).value_or("");
      if (!field->empty() && !field->starts_with("https://")) {
        r.error(std::string("endpoints.") + key, fmt::format("'{}' is not an https:// URL", *field));
      }
    }
    m.endpoints.ca_file = r.string(*ep, "ca_file", "endpoints.ca_file").value_or("");
    if (!m.endpoints.ca_file.empty() && m.endpoints.ca_file[0] != '/') {
      r.error("endpoints.ca_file", "must be an absolute path");
    }
  }
  return m;
}

common::Result<Member> member_from_doc(const SourceDoc& doc) {
  std::vector<Diagnostic> diags;
  Member m = member_from_doc(doc, diags);
  if (!diags.empty()) {
    std::string msg = "invalid member metadata:";
    for (const auto& d : diags) {
      msg += "\n  " + d.to_string();
    }
    return common::fail(common::Errc::invalid_config, "{}", msg);
  }
  return m;
}

}  // namespace binder::firstboot
