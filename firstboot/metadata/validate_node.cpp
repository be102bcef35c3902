// The binder_member node section (see validate.cpp for the schema's other sections).
#include "firstboot/address_class.hpp"
#include "firstboot/metadata/reader.hpp"

namespace binder::firstboot::metadata_detail {

void read_node(Reader& r, const json& root, Member& m) {
  const json* n = r.object(
      root, "node", "node",
      {"role", "server_url", "token", "extra_disk", "ntp", "ntp_mode", "max_pods_per_gib", "registries"});
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
      r.error("node.ntp_mode",
              "replace needs a node.ntp list (it would leave the machine without "
              "NTP servers)");
    }
  }
  if (n->contains("max_pods_per_gib") && !n->at("max_pods_per_gib").is_null()) {
    const json& f = n->at("max_pods_per_gib");
    if (!f.is_number() || f.get<double>() <= 0 || f.get<double>() > 50) {
      r.error("node.max_pods_per_gib",
              fmt::format("expected a number in (0, 50], got {}", Reader::describe(f)));
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

}  // namespace binder::firstboot::metadata_detail
