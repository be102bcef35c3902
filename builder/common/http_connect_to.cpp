// Options::connect_to (curl's --connect-to): where a request's TCP connection goes when it must
// not follow DNS, while the URL's host stays the TLS name and the Host header. IPv6 addresses are
// not accepted in the rules (the fields are ':'-separated, as in curl without brackets).
#include <charconv>

#include "common/http.hpp"

namespace binder::common::http {

namespace {

Result<int> port_field(std::string_view entry, std::string_view text) {
  if (text.empty())
    return 0;
  int port = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc{} || p != text.data() + text.size() || port <= 0 || port > 65535) {
    return fail(Errc::invalid_config, "connect-to rule '{}': bad port '{}'", entry, text);
  }
  return port;
}

}  // namespace

Result<std::vector<ConnectTo>> parse_connect_to(std::string_view spec) {
  std::vector<ConnectTo> rules;
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view entry = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (entry.empty())
      continue;
    std::vector<std::string_view> f;
    std::string_view rest = entry;
    for (;;) {
      auto colon = rest.find(':');
      f.push_back(rest.substr(0, colon));
      if (colon == std::string_view::npos)
        break;
      rest = rest.substr(colon + 1);
    }
    if (f.size() != 4) {
      return fail(Errc::invalid_config, "connect-to rule '{}': expected host:port:to_host:to_port", entry);
    }
    ConnectTo r;
    r.host = std::string(f[0]);
    TRY_ASSIGN(r.port, port_field(entry, f[1]));
    r.to_host = std::string(f[2]);
    TRY_ASSIGN(r.to_port, port_field(entry, f[3]));
    if (r.to_host.empty() && r.to_port == 0) {
      return fail(Errc::invalid_config, "connect-to rule '{}': no target", entry);
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

Url connect_address(const Url& url, const std::vector<ConnectTo>& rules) {
  for (const auto& r : rules) {
    if ((r.host.empty() || r.host == url.host) && (r.port == 0 || r.port == url.port)) {
      Url to = url;
      if (!r.to_host.empty())
        to.host = r.to_host;
      if (r.to_port != 0)
        to.port = r.to_port;
      return to;
    }
  }
  return url;
}

}  // namespace binder::common::http
