// Machine facts. See facts.hpp.
#include "firstboot/facts.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/fs.hpp"

namespace binder::firstboot {
namespace {

using nlohmann::json;

std::filesystem::path under(const std::filesystem::path& root, std::string_view abs) {
  return root / std::filesystem::path(abs.substr(1));
}

std::optional<std::string> ip_from_instance_data(const std::filesystem::path& root) {
  for (const char* file : {"/run/cloud-init/instance-data-sensitive.json", "/run/cloud-init/instance-data.json"}) {
    auto text = common::fs::read_file_if_exists(under(root, file));
    if (!text || !*text) {
      continue;
    }
    json j = json::parse(**text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      continue;
    }
    std::vector<const json*> places;
    if (j.contains("ds") && j["ds"].contains("meta_data")) {
      places.push_back(&j["ds"]["meta_data"]);
    }
    if (j.contains("v1")) {
      places.push_back(&j["v1"]);
    }
    for (const json* p : places) {
      for (const char* key : {"public-ipv4", "public_ipv4"}) {
        if (p->is_object() && p->contains(key) && (*p)[key].is_string() &&
            !(*p)[key].get<std::string>().empty()) {
          return (*p)[key].get<std::string>();
        }
      }
    }
  }
  return std::nullopt;
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
  if (member.public_ip) {
    return PublicIp{*member.public_ip, "metadata"};
  }
  if (auto ip = ip_from_instance_data(root)) {
    return PublicIp{*ip, "cloud-init instance data"};
  }
  TRY_ASSIGN(auto out, runner.run({"ip", "-j", "route", "get", "1.1.1.1"}));
  if (out.exit_code == 0) {
    json j = json::parse(out.out, nullptr, false);
    if (!j.is_discarded() && j.is_array() && !j.empty() && j[0].contains("prefsrc")) {
      return PublicIp{j[0]["prefsrc"].get<std::string>(), "default route"};
    }
  }
  return common::fail(Errc::temporary,
                      "no public IP: not in the metadata, not in cloud-init's instance data, and "
                      "no default route yet");
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
  return f;
}

}  // namespace binder::firstboot
