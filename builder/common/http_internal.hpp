// Internals of the HTTP client, shared by http*.cpp only: the OpenSSL context built from Options,
// a connection (TCP, optionally TLS) whose every read and write has a deadline, and one
// request/response exchange over it. Not part of the public API.
//
// Error convention: transport failures are Errc::network. A TLS certificate verification failure
// is Errc::network too, but its message starts with k_verify_failed_prefix, and is never retried
// (a wrong CA does not fix itself); see is_retriable().
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/http.hpp"

namespace binder::common::http {

struct Client::Tls {
  SSL_CTX* ctx = nullptr;
  ~Tls();
};

namespace detail {

using Clock = std::chrono::steady_clock;

inline constexpr std::string_view k_verify_failed_prefix = "TLS certificate verification failed";

// Builds the client context: TLS >= 1.2, SSL_VERIFY_PEER, CAs from options (ca_file, ca_pem) or
// the system store, optional client certificate + key (files or PEM).
Result<SSL_CTX*> make_ssl_ctx(const Options& options);

// True for transport errors worth another attempt (not certificate verification failures).
bool is_retriable(const Error& e);

class Connection {
 public:
  // Resolves and connects (trying each address) before `connect_deadline`, then runs the TLS
  // handshake when ctx is non-null, verifying the peer's name (DNS name or IP address).
  // With `address`, the TCP connection goes there (Options::connect_to) while TLS still
  // verifies url.host.
  static Result<Connection> open(const Url& url, SSL_CTX* ctx, Clock::time_point connect_deadline,
                                 const Url* address = nullptr);
  Connection(Connection&& o) noexcept;
  Connection& operator=(Connection&&) = delete;
  ~Connection();

  Result<void> write_all(std::string_view data, Clock::time_point deadline);
  // Reads at most n bytes; 0 means the peer closed the connection.
  Result<size_t> read_some(char* buf, size_t n, Clock::time_point deadline);

 private:
  Connection(int fd, std::string where) : m_fd(fd), m_where(std::move(where)) {}
  Result<void> handshake(const Url& url, SSL_CTX* ctx, Clock::time_point deadline);
  Result<void> wait(short events, Clock::time_point deadline, std::string_view doing);

  int m_fd = -1;
  SSL* m_ssl = nullptr;
  std::string m_where;  // "host:port" for messages
};

// Where the body of a response goes. Without a sink (or when on_headers returns false) the body
// is collected in Response::body.
struct BodySink {
  std::function<bool(const Response&)> on_headers;
  std::function<Result<void>(std::string_view)> on_data;
};

struct ExchangeOptions {
  // Deadline of the whole exchange; with idle_timeout each read gets now + request_timeout.
  bool idle_timeout = false;
  const BodySink* sink = nullptr;
};

// Connects, writes the request (Host, User-Agent, Connection: close, Content-Length added unless
// given), and reads the response. Any status is a Response.
Result<Response> exchange(Client::Tls& tls, const Options& options, const Request& request,
                          const ExchangeOptions& xo);

// Retry policy (http.cpp): 429 and 5xx are retried; the delay before attempt n+1 is the
// response's Retry-After capped by backoff_max, else full-jitter exponential backoff.
bool retriable_status(int status);
std::optional<std::chrono::milliseconds> retry_after(const Response& resp);
std::chrono::milliseconds delay_after(const Options& o, int attempt, const Response* resp);

// "GET https://host/path" without the query string (may carry secrets), for logs and errors.
std::string describe(const Request& request);

}  // namespace detail
}  // namespace binder::common::http
