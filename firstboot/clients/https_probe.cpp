// HttpsProbe: see https_probe.hpp. The error texts of the HTTP client (common/http*.cpp) are
// mapped to causes here, in one table, so the console block and `status` show what to fix.
#include "firstboot/clients/https_probe.hpp"

#include <array>
#include <string_view>

#include <fmt/format.h>

namespace binder::firstboot::clients {

namespace http = common::http;

namespace {

// OpenSSL's X509_verify_cert_error_string texts (both spellings across OpenSSL 1.1 / 3) and
// what they mean for a donor.
struct TlsCause {
  std::string_view openssl;
  std::string_view cause;  // {} = the host name
};
constexpr std::array k_tls_causes{
    TlsCause{"hostname mismatch", "certificate not valid for {} (hostname mismatch)"},
    TlsCause{"IP address mismatch", "certificate not valid for {} (IP address mismatch)"},
    TlsCause{"self-signed certificate",
             "certificate not trusted (self-signed certificate; the ACME certificate is not issued yet?)"},
    TlsCause{"self signed certificate",
             "certificate not trusted (self-signed certificate; the ACME certificate is not issued yet?)"},
    TlsCause{"unable to get local issuer certificate",
             "certificate not trusted (unknown issuer; a staging ACME issuer?)"},
    TlsCause{"certificate has expired", "certificate expired"},
    TlsCause{"certificate is not yet valid", "certificate not yet valid (clock skew?)"},
};

std::string fill(std::string_view pattern, const std::string& host) {
  std::string out(pattern);
  if (auto at = out.find("{}"); at != std::string::npos)
    out.replace(at, 2, host);
  return out;
}

}  // namespace

std::string describe_transport_error(const common::Error& e, const std::string& host, bool* tls) {
  const std::string& m = e.message;
  if (tls != nullptr)
    *tls = false;
  if (m.starts_with("TLS certificate verification failed")) {
    if (tls != nullptr)
      *tls = true;
    for (const auto& c : k_tls_causes) {
      if (m.find(c.openssl) != std::string::npos)
        return fill(c.cause, host);
    }
    auto colon = m.rfind(": ");
    return "certificate not accepted (" + (colon == std::string::npos ? m : m.substr(colon + 2)) + ")";
  }
  if (m.starts_with("TLS handshake")) {
    if (tls != nullptr)
      *tls = true;
    return "TLS handshake failed (" + m + ")";
  }
  if (m.starts_with("resolving"))
    return "cannot resolve " + host + " (DNS not propagated yet?)";
  if (m.find("Connection refused") != std::string::npos)
    return "connection refused (" + m + ")";
  if (m.find("timed out") != std::string::npos)
    return "timed out (" + m + ")";
  return m;
}

HttpsProbe::HttpsProbe(http::Options options) : m_options(std::move(options)) { m_options.max_attempts = 1; }

ProbeAnswer HttpsProbe::get(const std::string& url, const std::string& accept,
                            std::chrono::milliseconds timeout) {
  ProbeAnswer a;
  a.url = url;
  auto parsed = http::parse_url(url);
  if (!parsed) {
    a.cause = parsed.error().message;
    return a;
  }
  if (parsed->scheme != "https") {
    a.cause = url + ": not an https:// URL";
    return a;
  }
  http::Options o = m_options;
  if (timeout.count() > 0)
    o.request_timeout = timeout;
  http::Client client(o);
  http::Request req;
  req.url = url;
  if (!accept.empty())
    req.headers.push_back({"Accept", accept});
  auto r = client.send_once(req);
  if (!r) {
    a.cause = url + ": " + describe_transport_error(r.error(), parsed->host, &a.tls_failure);
    return a;
  }
  a.status = r->status;
  a.body = std::move(r->body);
  if (a.status != 200)
    a.cause = fmt::format("{}: HTTP {}", url, a.status);
  return a;
}

std::vector<nlohmann::json> parse_event_stream(const std::string& body) {
  std::vector<nlohmann::json> events;
  std::string_view rest = body;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (!line.starts_with("data:"))
      continue;
    line.remove_prefix(5);
    if (line.starts_with(" "))
      line.remove_prefix(1);
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      j = {{"phase", "unknown"}, {"message", std::string(line)}};
    }
    events.push_back(std::move(j));
  }
  return events;
}

}  // namespace binder::firstboot::clients
