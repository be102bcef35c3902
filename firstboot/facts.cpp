// Machine facts. See facts.hpp.
#include "firstboot/facts.hpp"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "firstboot/address_class.hpp"

namespace binder::firstboot {
namespace {

using nlohmann::json;

std::filesystem::path under(const std::filesystem::path& root, std::string_view abs) {
  return root / std::filesystem::path(abs.substr(1));
}

// A candidate address and where exactly it was found.
struct Found {
  std::string address;
  std::string where;  // "ds.meta_data.public-ipv4"
};

using KeyPath = std::vector<const char*>;

const json* at(const json& j, const KeyPath& path) {
  const json* p = &j;
  for (const char* k : path) {
    if (!p->is_object() || !p->contains(k))
      return nullptr;
    p = &(*p)[k];
  }
  return p;
}

std::optional<std::string> nonempty_string(const json* v) {
  if (v != nullptr && v->is_string() && !v->get<std::string>().empty())
    return v->get<std::string>();
  return std::nullopt;
}

// The public address in one cloud-init instance-data document, by cloud:
//   EC2:       ds.meta_data.public-ipv4 (IMDS meta-data; absent without a public IP)
//   OpenStack: ds.ec2_metadata.public-ipv4 (Nova's EC2-style metadata: the floating IP)
//   GCE:       ds.meta_data[.instance].networkInterfaces[].accessConfigs[].externalIp (the
//              metadata server's shape; cloud-init's GCE datasource may not copy it, and then the
//              default route's private address is refused and public_ip must be set)
//   Azure:     ds.meta_data.imds.network.interface[].ipv4.ipAddress[].publicIpAddress (IMDS)
//   other:     ds.meta_data.public_ipv4, v1.public_ipv4
std::optional<Found> public_ip_in(const json& j) {
  struct Key {
    KeyPath path;
    const char* name;
  };
  static const std::vector<Key> plain = {
      {{"ds", "meta_data", "public-ipv4"}, "ds.meta_data.public-ipv4"},
      {{"ds", "ec2_metadata", "public-ipv4"}, "ds.ec2_metadata.public-ipv4"},
      {{"ds", "meta_data", "public_ipv4"}, "ds.meta_data.public_ipv4"},
      {{"v1", "public_ipv4"}, "v1.public_ipv4"}};
  for (const Key& k : plain) {
    if (auto ip = nonempty_string(at(j, k.path)))
      return Found{*ip, k.name};
  }
  static const std::vector<Key> gce = {
      {{"ds", "meta_data", "instance", "networkInterfaces"},
       "ds.meta_data.instance.networkInterfaces[].accessConfigs[].externalIp"},
      {{"ds", "meta_data", "networkInterfaces"},
       "ds.meta_data.networkInterfaces[].accessConfigs[].externalIp"}};
  for (const auto& [path, name] : gce) {
    const json* nics = at(j, path);
    if (nics == nullptr || !nics->is_array())
      continue;
    for (const json& nic : *nics) {
      const json* acs = at(nic, {"accessConfigs"});
      if (acs == nullptr || !acs->is_array())
        continue;
      for (const json& ac : *acs) {
        if (auto ip = nonempty_string(at(ac, {"externalIp"})))
          return Found{*ip, name};
      }
    }
  }
  if (const json* nics = at(j, {"ds", "meta_data", "imds", "network", "interface"});
      nics != nullptr && nics->is_array()) {
    for (const json& nic : *nics) {
      const json* addrs = at(nic, {"ipv4", "ipAddress"});
      if (addrs == nullptr || !addrs->is_array())
        continue;
      for (const json& a : *addrs) {
        if (auto ip = nonempty_string(at(a, {"publicIpAddress"}))) {
          return Found{*ip, "ds.meta_data.imds.network.interface[].ipv4.ipAddress[].publicIpAddress"};
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<Found> ip_from_instance_data(const std::filesystem::path& root) {
  for (const char* file :
       {"/run/cloud-init/instance-data-sensitive.json", "/run/cloud-init/instance-data.json"}) {
    auto text = common::fs::read_file_if_exists(under(root, file));
    if (!text || !*text) {
      continue;
    }
    json j = json::parse(**text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      continue;
    }
    if (auto f = public_ip_in(j)) {
      f->where = fmt::format("cloud-init instance data ({} {})", file, f->where);
      return f;
    }
  }
  return std::nullopt;
}

// The addresses on the machine's NICs (`ip -j addr show`); nullopt when they cannot be listed.
std::optional<std::vector<std::string>> nic_addresses(CommandRunner& runner) {
  auto out = runner.run({"ip", "-j", "addr", "show"});
  if (!out || out->exit_code != 0)
    return std::nullopt;
  json j = json::parse(out->out, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return std::nullopt;
  std::vector<std::string> addrs;
  for (const json& link : j) {
    const json* infos = at(link, {"addr_info"});
    if (infos == nullptr || !infos->is_array())
      continue;
    for (const json& a : *infos) {
      if (auto local = nonempty_string(at(a, {"local"})))
        addrs.push_back(*local);
    }
  }
  return addrs;
}

}  // namespace

std::optional<std::uint64_t> parse_meminfo(std::string_view text) {
  auto pos = text.find("MemTotal:");
  if (pos == std::string_view::npos) {
    return std::nullopt;
  }
  std::string rest(text.substr(pos + 9, 40));
  std::uint64_t kb = std::strtoull(rest.c_str(), nullptr, 10);
  if (kb == 0) {
    return std::nullopt;
  }
  return kb * 1024;
}

Result<PublicIp> discover_public_ip(const std::filesystem::path& root, const Member& member,
                                    CommandRunner& runner) {
  PublicIp ip;
  if (member.public_ip) {
    ip = PublicIp{*member.public_ip, "metadata"};
    if (!member.public_ip_private_ok) {
      TRY(check_publishable(ip.address, "the metadata's public_ip"));
    }
  } else if (auto found = ip_from_instance_data(root)) {
    ip = PublicIp{found->address, "cloud-init instance data"};
    TRY(check_publishable(ip.address, found->where));
  } else {
    TRY_ASSIGN(auto out, runner.run({"ip", "-j", "route", "get", "1.1.1.1"}));
    json j = out.exit_code == 0 ? json::parse(out.out, nullptr, false) : json();
    if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].contains("prefsrc") ||
        !j[0]["prefsrc"].is_string()) {
      return common::fail(Errc::temporary,
                          "no public IP: not in the metadata, not in cloud-init's instance data, "
                          "and no default route yet");
    }
    ip = PublicIp{j[0]["prefsrc"].get<std::string>(), "default route"};
    TRY(check_publishable(ip.address,
                          "the default route's source address (ip route get 1.1.1.1: prefsrc; no "
                          "public address in the metadata or cloud-init's instance data)"));
  }
  if (ip.source == "default route") {
    ip.on_nic = true;  // prefsrc is an address of the outgoing NIC
  } else if (auto addrs = nic_addresses(runner)) {
    ip.on_nic = std::find(addrs->begin(), addrs->end(), ip.address) != addrs->end();
  } else {
    ip.on_nic = false;  // cannot tell: node-external-ip is right either way
  }
  return ip;
}

Result<MachineFacts> discover_facts(const std::filesystem::path& root, const Member& member,
                                    CommandRunner& runner) {
  MachineFacts f;
  auto text = common::fs::read_file_if_exists(under(root, "/proc/meminfo"));
  if (!text || !*text) {
    text = common::fs::read_file_if_exists("/proc/meminfo");
  }
  if (text && *text) {
    f.ram_bytes = parse_meminfo(**text).value_or(0);
  }
  if (f.ram_bytes == 0) {
    return common::fail(Errc::internal, "cannot read MemTotal from /proc/meminfo");
  }
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  f.cpus = n > 0 ? static_cast<int>(n) : 1;
  TRY_ASSIGN(PublicIp ip, discover_public_ip(root, member, runner));
  f.public_ip = ip.address;
  f.public_ip_source = ip.source;
  f.public_ip_on_nic = ip.on_nic;
  return f;
}

}  // namespace binder::firstboot
