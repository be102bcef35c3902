// HTTP/1.1 client over OpenSSL, used by the builder (downloads) and binder-firstboot (Cloudflare,
// Harbor, S3, the Kubernetes API). TLS is always verified (system CAs, or a given CA file for
// tests and private clouds); an optional client certificate serves the k3s API. Every request has
// connect and total timeouts. send() retries with exponential backoff and jitter on connection
// errors, 429 and 5xx, honouring Retry-After, up to a bounded number of attempts. Only the method,
// host and path of a request are logged (debug): never headers, query strings or bodies.
// Plain http:// is accepted (downloads are checksum-verified; tests); API clients that send
// credentials call require_secure() first, which allows http:// only for loopback hosts.
// One connection per request (Connection: close); no proxy support. Thread-compatible: one
// Client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace binder::common::http {

struct Url {
  std::string scheme;  // "https" or "http"
  std::string host;
  int port = 0;
  std::string target;  // path + query, at least "/"
};
// Parses "https://host[:port]/path?query" (IPv6 as "[::1]"); errors name the URL.
Result<Url> parse_url(const std::string& url);
// The Host header value: "host", with ":port" unless the scheme's default, IPv6 in brackets.
std::string host_header(const Url& url);

// A redirect or relative link `location` resolved against the URL it came from (absolute,
// scheme-relative "//host/x", absolute path, or relative to the base's folder).
std::string resolve_location(const std::string& base, const std::string& location);
// Ok for https, or http to 127.0.0.1/localhost/::1; an Errc::precondition error otherwise.
Result<void> require_secure(const std::string& url);
// RFC 3986 percent-encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) are kept, everything
// else becomes %XX (upper-case hex). With keep_slash, '/' is kept too (paths).
std::string percent_encode(std::string_view s, bool keep_slash = false);

// curl's --connect-to: requests for `host`:`port` (empty host: any host; port 0: any port)
// open their TCP connection to `to_host`:`to_port` instead. The URL's host stays the TLS name
// (SNI, certificate check) and the Host header. Tests and the smoke boot use it to reach a
// member's public names on a local server with a certificate for those names.
struct ConnectTo {
  std::string host;
  int port = 0;
  std::string to_host;
  int to_port = 0;
};
// Parses "host:port:to_host:to_port[,...]" (fields may be empty as in curl: "::10.0.2.2:8443"
// sends every host and port there). Errors name the entry.
Result<std::vector<ConnectTo>> parse_connect_to(std::string_view spec);
// The address to connect to for `url` (the URL itself when no rule matches).
Url connect_address(const Url& url, const std::vector<ConnectTo>& rules);

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<Header> headers;
  std::string body;
};

struct Response {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
  // Case-insensitive lookup of the first header with that name.
  std::optional<std::string> header(std::string_view name) const;
};

struct Options {
  std::filesystem::path ca_file;           // empty: system trust store
  std::filesystem::path client_cert_file;  // PEM; with client_key_file for mutual TLS
  std::filesystem::path client_key_file;
  std::string client_cert_pem;  // alternatively in memory (k3s.yaml embeds them)
  std::string client_key_pem;
  std::string ca_pem;
  // With ca_file/ca_pem: trust the system store as well (an extra CA for a private endpoint).
  bool also_system_cas = false;
  std::chrono::milliseconds connect_timeout{10'000};
  // send(): the whole exchange, per attempt. download(): the longest wait for any progress
  // (large bodies legitimately take longer than this in total).
  std::chrono::milliseconds request_timeout{60'000};
  int max_attempts = 5;  // 1 = no retry
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_max{30'000};
  std::string user_agent = "binder-image";
  int max_redirects = 5;              // download() only; send() returns 3xx responses as they are
  std::vector<ConnectTo> connect_to;  // first matching rule wins
};

// Called for progress of large bodies: (bytes so far, total or -1).
using ProgressFn = std::function<void(std::int64_t, std::int64_t)>;

class Client {
 public:
  explicit Client(Options options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One attempt. Network/TLS problems are Errc::network (TLS verification failures say so
  // explicitly); any HTTP status is a successful Response.
  Result<Response> send_once(const Request& request);

  // send_once with retries on connection errors, 429 and 5xx (Retry-After honoured, capped by
  // backoff_max). After the last attempt: the last Response if there was one, else the error
  // with Errc::temporary.
  Result<Response> send(const Request& request);

  // Streams the body of a GET into `path`, resuming from the file's current size with a Range
  // request when the server supports it (206), restarting otherwise (200). Follows redirects
  // (max_redirects). Retries like send(); a non-2xx final status is an Errc::network error
  // naming the status (Errc::temporary for 429/5xx after the last attempt). The file is left in
  // place on failure so the next call resumes.
  Result<void> download(const std::string& url, const std::filesystem::path& path,
                        const ProgressFn& progress = {});

  const Options& options() const { return m_options; }

  struct Tls;  // the OpenSSL context, built on first use from the options

 private:
  Options m_options;
  std::unique_ptr<Tls> m_tls;
};

}  // namespace binder::common::http
