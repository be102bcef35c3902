// Address classes for the member's public IP: one table (address_class.cpp) says which IPv4/IPv6
// ranges may be published (Cloudflare A/AAAA records, k3s tls-san, the exported kubeconfig) and
// which may not. Pure functions, no I/O.
//
// Decision on documentation ranges: TEST-NET-1/2/3 (192.0.2.0/24, 198.51.100.0/24,
// 203.0.113.0/24, RFC 5737) and 2001:db8::/32 (RFC 3849) count as publishable. They are never
// assigned to a real machine, so a real member cannot get one from its cloud, and tests, fakes and
// examples need a "public" address that is not somebody's real one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace binder::firstboot {

struct AddressClass {
  std::string_view cidr;  // "10.0.0.0/8"
  std::string_view name;  // "private (RFC 1918)"
  bool publishable;
};

// The table, most specific first within a family (the first match wins).
const std::vector<AddressClass>& address_classes();

// The class of `ip` (an IPv4 or IPv6 literal); nullopt when `ip` is not an address. An address in
// no listed range is global unicast: {"", "global unicast", true}. An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) is classified as its IPv4 address.
std::optional<AddressClass> classify_address(std::string_view ip);

// Ok when `ip` may be published. Otherwise Errc::invalid_config (exit 2) naming the address, its
// class and range, and `source` (where it came from), with what to do about it.
common::Result<void> check_publishable(std::string_view ip, std::string_view source);

}  // namespace binder::firstboot
