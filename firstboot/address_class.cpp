// The address class table. See address_class.hpp.
#include "firstboot/address_class.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include <fmt/format.h>

namespace binder::firstboot {
namespace {

struct Parsed {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
};

std::optional<Parsed> parse(std::string_view text) {
  std::string s(text);
  Parsed p;
  if (s.find(':') == std::string::npos) {
    if (::inet_pton(AF_INET, s.c_str(), p.bytes.data()) != 1)
      return std::nullopt;
    return p;
  }
  if (::inet_pton(AF_INET6, s.c_str(), p.bytes.data()) != 1)
    return std::nullopt;
  p.v6 = true;
  // ::ffff:a.b.c.d is the IPv4 address a.b.c.d.
  static constexpr std::array<std::uint8_t, 12> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(mapped.begin(), mapped.end(), p.bytes.begin())) {
    Parsed v4;
    std::copy(p.bytes.begin() + 12, p.bytes.end(), v4.bytes.begin());
    return v4;
  }
  return p;
}

bool in_range(const Parsed& ip, std::string_view cidr) {
  auto slash = cidr.find('/');
  auto net = parse(cidr.substr(0, slash));
  int bits = std::stoi(std::string(cidr.substr(slash + 1)));
  if (!net || net->v6 != ip.v6)
    return false;
  for (int i = 0; i < bits; ++i) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((ip.bytes[byte] >> bit) & 1) != ((net->bytes[byte] >> bit) & 1))
      return false;
  }
  return true;
}

}  // namespace

const std::vector<AddressClass>& address_classes() {
  // clang-format off
  static const std::vector<AddressClass> table = {
      // IPv4
      {"0.0.0.0/8",        "\"this network\" (RFC 791)",              false},
      {"10.0.0.0/8",       "private (RFC 1918)",                      false},
      {"100.64.0.0/10",    "shared address space / CGNAT (RFC 6598)", false},
      {"127.0.0.0/8",      "loopback (RFC 1122)",                     false},
      {"169.254.0.0/16",   "link-local (RFC 3927)",                   false},
      {"172.16.0.0/12",    "private (RFC 1918)",                      false},
      {"192.0.0.0/24",     "IETF protocol assignments (RFC 6890)",    false},
      {"192.0.2.0/24",     "documentation TEST-NET-1 (RFC 5737)",     true},
      {"192.168.0.0/16",   "private (RFC 1918)",                      false},
      {"198.18.0.0/15",    "benchmarking (RFC 2544)",                 false},
      {"198.51.100.0/24",  "documentation TEST-NET-2 (RFC 5737)",     true},
      {"203.0.113.0/24",   "documentation TEST-NET-3 (RFC 5737)",     true},
      {"224.0.0.0/4",      "multicast (RFC 5771)",                    false},
      {"240.0.0.0/4",      "reserved and broadcast (RFC 1112)",       false},
      // IPv6 (IPv4-mapped ::ffff:0:0/96 is classified as its IPv4 address)
      {"::/128",           "unspecified (RFC 4291)",                  false},
      {"::1/128",          "loopback (RFC 4291)",                     false},
      {"64:ff9b:1::/48",   "local-use NAT64 (RFC 8215)",              false},
      {"100::/64",         "discard-only (RFC 6666)",                 false},
      {"2001:db8::/32",    "documentation (RFC 3849)",                true},
      {"fc00::/7",         "unique local (RFC 4193)",                 false},
      {"fe80::/10",        "link-local (RFC 4291)",                   false},
      {"fec0::/10",        "site-local, deprecated (RFC 3879)",       false},
      {"ff00::/8",         "multicast (RFC 4291)",                    false},
  };
  // clang-format on
  return table;
}

std::optional<AddressClass> classify_address(std::string_view ip) {
  auto p = parse(ip);
  if (!p)
    return std::nullopt;
  for (const AddressClass& c : address_classes()) {
    if (in_range(*p, c.cidr))
      return c;
  }
  return AddressClass{"", "global unicast", true};
}

common::Result<void> check_publishable(std::string_view ip, std::string_view source) {
  auto c = classify_address(ip);
  if (!c) {
    return common::fail(common::Errc::invalid_config, "public IP '{}' from {} is not an IP address", ip,
                        source);
  }
  if (c->publishable)
    return {};
  return common::fail(
      common::Errc::invalid_config,
      "public IP {} from {} is {} ({}): it must not be published in DNS, the k3s tls-san or the "
      "kubeconfig. Set binder_member.public_ip to the machine's public address (behind NAT: the "
      "address the NAT forwards from), or, for a member meant to be reached on this network, set "
      "public_ip: {} together with public_ip_private_ok: true",
      ip, source, c->name, c->cidr, ip);
}

}  // namespace binder::firstboot
