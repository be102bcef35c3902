// The binder_member schema: one reader per section. Each read_* function checks the keys of its
// mapping against the list it knows (unknown keys are errors with a suggestion) and converts
// values, recording a Diagnostic for every problem instead of stopping at the first. The node and
// registry sections have their own files; the Reader is in reader.hpp.
#include "firstboot/metadata/validate.hpp"

#include "common/http.hpp"
#include "firstboot/address_class.hpp"
#include "firstboot/metadata/reader.hpp"

namespace binder::firstboot {

using metadata_detail::is_dns_label;
using metadata_detail::is_hostname;
using metadata_detail::is_ip;
using metadata_detail::read_node;
using metadata_detail::read_readiness;
using metadata_detail::read_registry;
using metadata_detail::Reader;
using nlohmann::json;

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
  r.check_keys(root, "",
               {"name", "cluster_name", "domain", "mode", "public_ip", "public_ip_private_ok", "dns", "tls",
                "registry", "binderhub", "node", "operators", "k3s", "endpoints", "status_url", "readiness"});
  m.name = r.required(root, "name", "name");
  if (!m.name.empty() && !is_dns_label(m.name)) {
    r.error("name", fmt::format("'{}' is not a DNS label (lower-case letters, digits and '-', "
                                "at most 63)",
                                m.name));
  }
  if (auto cluster = r.string(root, "cluster_name", "cluster_name")) {
    if (!is_dns_label(*cluster)) {
      r.error("cluster_name", fmt::format("'{}' is not a DNS label (lower-case letters, digits "
                                          "and '-', at most 63)",
                                          *cluster));
    } else {
      m.cluster_name = *cluster;
    }
  }
  m.domain = r.required(root, "domain", "domain");
  if (!m.domain.empty() && !is_hostname(m.domain)) {
    r.error("domain", fmt::format("'{}' is not a domain name", m.domain));
  }
  if (auto mode = r.choice<Mode>(root, "mode", "mode",
                                 {{"federation", Mode::federation}, {"standalone", Mode::standalone}})) {
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
      r.error("public_ip_private_ok", fmt::format("expected true or false, got {}", Reader::describe(ok)));
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
    if (auto p = r.choice<std::string>(*dns, "provider", "dns.provider", {{"cloudflare", "cloudflare"}})) {
      d.provider = *p;
    }
    d.zone = r.string(*dns, "zone", "dns.zone").value_or(m.domain);
    d.api_token = r.required(*dns, "api_token", "dns.api_token");
    d.zone_id = r.string(*dns, "zone_id", "dns.zone_id").value_or("");
    static const std::regex k_zone_id("[0-9a-f]{32}");
    if (!d.zone_id.empty() && !std::regex_match(d.zone_id, k_zone_id)) {
      r.error("dns.zone_id", fmt::format("'{}' is not a Cloudflare zone id (32 lowercase hex digits, "
                                         "shown on the zone's Overview page)",
                                         d.zone_id));
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
  if (const json* bh =
          r.object(root, "binderhub", "binderhub", {"chart_version", "values", "github_token"})) {
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
    m.operators.ssh_authorized_keys = r.strings(*ops, "ssh_authorized_keys", "operators.ssh_authorized_keys");
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
        r.error("k3s.auto_upgrade",
                fmt::format("expected true or false, got {}", Reader::describe(k3s->at("auto_upgrade"))));
      } else {
        m.k3s.auto_upgrade = k3s->at("auto_upgrade").get<bool>();
      }
    }
  }
  if (const json* ep = r.object(root, "endpoints", "endpoints", {"cloudflare", "harbor", "ca_file"})) {
    for (auto [key, field] :
         {std::pair{"cloudflare", &m.endpoints.cloudflare}, std::pair{"harbor", &m.endpoints.harbor}}) {
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
  // Phone home (app/phone_home.hpp): https only, a host, no credentials in the URL.
  m.status_url = r.string(root, "status_url", "status_url").value_or("");
  if (!m.status_url.empty()) {
    auto url = common::http::parse_url(m.status_url);
    if (!url) {
      r.error("status_url", url.error().message);
    } else if (url->scheme != "https") {
      r.error("status_url", fmt::format("'{}' is not an https:// URL", m.status_url));
    }
  }
  read_readiness(r, root, m);
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
