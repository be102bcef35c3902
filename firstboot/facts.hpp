// Machine facts discovery: RAM and CPUs (from <root>/proc when present, else the running
// kernel), and the public IP with its source, in order: the metadata's public_ip, cloud-init
// instance data (ds.meta_data public-ipv4 / public_ipv4, v1.public_ipv4), else the default
// route's source address (`ip -j route get 1.1.1.1` -> prefsrc: a route lookup, no traffic).
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
};

Result<PublicIp> discover_public_ip(const std::filesystem::path& root, const Member& member,
                                    CommandRunner& runner);
// MemTotal in bytes from a /proc/meminfo text; nullopt if absent.
std::optional<std::uint64_t> parse_meminfo(std::string_view text);
// RAM, CPUs and public IP. extra_disk is left empty (the disk step fills it).
Result<MachineFacts> discover_facts(const std::filesystem::path& root, const Member& member,
                                    CommandRunner& runner);

}  // namespace binder::firstboot
