// The readiness checks' view of the internet (issue 12): plain GETs of public https:// URLs as any
// visitor makes them, with the certificate verified against the system trust store (plus an
// optional extra CA for tests and private clouds; Options::connect_to lets tests reach a public
// name on a local server). One attempt per call: the readiness step owns the retries and the
// deadline. Failures come back as one-line causes a donor can act on:
//   "https://x/health: certificate not valid for x (hostname mismatch)"
//   "https://x/health: certificate not trusted (self-signed certificate)"
//   "https://x/health: HTTP 503"
//   "https://x/health: cannot resolve x (DNS not propagated yet?)"
// No header, query string or body is logged.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http.hpp"
#include "common/result.hpp"

namespace binder::firstboot::clients {

// A GET's answer, or why there was none.
struct ProbeAnswer {
  std::string url;
  int status = 0;  // 0: no HTTP answer (transport or TLS failure)
  std::string body;
  std::string cause;  // one line, empty when status == 200
  bool tls_failure = false;
  bool ok() const { return status == 200; }
};

class HttpsProbe {
 public:
  // `options`: trust (ca_file/ca_pem + also_system_cas), timeouts, connect_to; attempts are
  // forced to 1.
  explicit HttpsProbe(common::http::Options options);

  // GET url (https:// only; http:// is refused as a cause, never fetched). `accept` becomes the
  // Accept header when not empty. `timeout` overrides the request timeout when positive.
  ProbeAnswer get(const std::string& url, const std::string& accept = {},
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

 private:
  common::http::Options m_options;
};

// The cause in one line for a transport/TLS error of the HTTP client on `host`.
std::string describe_transport_error(const common::Error& e, const std::string& host, bool* tls);

// BinderHub's build API event stream (text/event-stream, "data: {json}" lines): the events in order.
// Lines that are not data lines (":keepalive", "retry:") are skipped; a data line that is not JSON is
// an event {"phase": "unknown", "message": <line>}.
std::vector<nlohmann::json> parse_event_stream(const std::string& body);

}  // namespace binder::firstboot::clients
