// Machine facts discovery: RAM and CPUs (from <root>/proc when present, else the running
// kernel), and the public IP with its source, in order: the metadata's public_ip, cloud-init
// instance data (EC2 / OpenStack public-ipv4, GCE access config externalIp, Azure IMDS
// publicIpAddress: see facts.cpp), else the default route's source address
// (`ip -j route get 1.1.1.1` -> prefsrc: a route lookup, no traffic).
// The address must be publishable (address_class.hpp): a private, CGNAT, link-local or loopback
// address is refused with Errc::invalid_config (exit 2) naming where it came from, unless the
// metadata sets public_ip explicitly with public_ip_private_ok: true. A public IP that is not on
// any NIC (`ip -j addr show`) means NAT: k3s then gets node-external-ip.
// Non-logging.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "firstboot/env.hpp"

namespace binder::firstboot {

struct PublicIp {
  std::string address;
  std::string source;  // "metadata", "cloud-init instance data", "default route"
  bool on_nic = true;  // false: not an address of this machine's NICs (NAT, floating IP)
};

Result<PublicIp> discover_public_ip(const std::filesystem::path& root, const Member& member,
                                    CommandRunner& runner);
// MemTotal in bytes from a /proc/meminfo text; nullopt if absent.
std::optional<std::uint64_t> parse_meminfo(std::string_view text);
// RAM, CPUs and public IP. extra_disk is left empty (the disk step fills it).
Result<MachineFacts> discover_facts(const std::filesystem::path& root, const Member& member,
                                    CommandRunner& runner);

}  // namespace binder::firstboot
