// A client connection for the HTTP client: non-blocking TCP connect with a deadline (each
// resolved address in turn), then optionally a TLS handshake that verifies the peer's certificate
// chain and name (SNI + SSL_set1_host for DNS names, the IP SAN for address literals). Reads and
// writes poll() against a deadline, so a silent peer can never hang the agent.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/http_internal.hpp"

namespace binder::common::http::detail {
namespace {

int millis_until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string ssl_error_text() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? "" : "; ";
    out += buf;
  }
  return out;
}

// Writing to a socket the peer closed raises SIGPIPE; block it around writes (the process-wide
// disposition is left alone) and swallow a pending one.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&m_pending_before);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &m_old);
  }
  ~SigpipeGuard() {
    if (!sigismember(&m_pending_before, SIGPIPE)) {
      sigset_t pipe_set;
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
  }

 private:
  sigset_t m_old{};
  sigset_t m_pending_before{};
};

int connect_one(const addrinfo* ai, Clock::time_point deadline, std::string& why) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    why = std::strerror(errno);
    return -1;
  }
  int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
  if (rc != 0 && errno != EINPROGRESS) {
    why = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, millis_until(deadline));
    if (n == 0) {
      why = "connection timed out";
      ::close(fd);
      return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (n < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      why = std::strerror(n < 0 ? errno : (err != 0 ? err : errno));
      ::close(fd);
      return -1;
    }
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

Result<Connection> Connection::open(const Url& url, SSL_CTX* ctx, Clock::time_point deadline,
                                    const Url* address) {
  const Url& to = address != nullptr ? *address : url;
  std::string where = fmt::format("{}:{}", to.host, to.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG | (is_ip_literal(to.host) ? AI_NUMERICHOST : 0);
  addrinfo* res = nullptr;
  std::string port = std::to_string(to.port);
  int gai = ::getaddrinfo(to.host.c_str(), port.c_str(), &hints, &res);
  if (gai == EAI_ADDRFAMILY || gai == EAI_NONAME) {
    hints.ai_flags &= ~AI_ADDRCONFIG;  // loopback-only machines (tests, early boot)
    gai = ::getaddrinfo(to.host.c_str(), port.c_str(), &hints, &res);
  }
  if (gai != 0) {
    return fail(Errc::network, "resolving '{}': {}", to.host, gai_strerror(gai));
  }
  std::string why = "no address";
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = connect_one(ai, deadline, why);
  }
  ::freeaddrinfo(res);
  if (fd < 0) {
    return fail(Errc::network, "connecting to {}: {}", where, why);
  }
  Connection conn(fd, where);
  if (ctx != nullptr) {
    TRY(conn.handshake(url, ctx, deadline));
  }
  return conn;
}

Connection::Connection(Connection&& o) noexcept
    : m_fd(std::exchange(o.m_fd, -1)),
      m_ssl(std::exchange(o.m_ssl, nullptr)),
      m_where(std::move(o.m_where)) {}

Connection::~Connection() {
  if (m_ssl != nullptr) {
    SSL_free(m_ssl);
  }
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

Result<void> Connection::wait(short events, Clock::time_point deadline, std::string_view doing) {
  pollfd p{m_fd, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, millis_until(deadline));
    if (n > 0) {
      return {};
    }
    if (n == 0) {
      return fail(Errc::network, "{}: timed out {}", m_where, doing);
    }
    if (errno != EINTR) {
      return fail(Errc::network, "{}: poll: {}", m_where, std::strerror(errno));
    }
  }
}

Result<void> Connection::handshake(const Url& url, SSL_CTX* ctx, Clock::time_point deadline) {
  m_ssl = SSL_new(ctx);
  if (m_ssl == nullptr || SSL_set_fd(m_ssl, m_fd) != 1) {
    return fail(Errc::internal, "creating a TLS session: {}", ssl_error_text());
  }
  if (is_ip_literal(url.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(m_ssl), url.host.c_str());
  } else {
    SSL_set_tlsext_host_name(m_ssl, url.host.c_str());
    SSL_set1_host(m_ssl, url.host.c_str());
  }
  for (;;) {
    ERR_clear_error();
    int rc = SSL_connect(m_ssl);
    if (rc == 1) {
      return {};
    }
    int err = SSL_get_error(m_ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      TRY(wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, "in the TLS handshake"));
      continue;
    }
    long verify = SSL_get_verify_result(m_ssl);
    if (verify != X509_V_OK) {
      return fail(Errc::network, "{} for '{}': {}", k_verify_failed_prefix, url.host,
                  X509_verify_cert_error_string(verify));
    }
    std::string text = ssl_error_text();
    if (text.empty()) {
      text = err == SSL_ERROR_SYSCALL && errno != 0 ? std::strerror(errno) : "connection closed by the peer";
    }
    return fail(Errc::network, "TLS handshake with {}: {}", m_where, text);
  }
}

Result<void> Connection::write_all(std::string_view data, Clock::time_point deadline) {
  SigpipeGuard guard;
  while (!data.empty()) {
    if (m_ssl != nullptr) {
      size_t n = 0;
      ERR_clear_error();
      if (SSL_write_ex(m_ssl, data.data(), data.size(), &n) == 1) {
        data.remove_prefix(n);
        continue;
      }
      int err = SSL_get_error(m_ssl, 0);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        TRY(wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, "sending the request"));
        continue;
      }
      return fail(Errc::network, "{}: sending the request: {}", m_where,
                  err == SSL_ERROR_SYSCALL ? std::strerror(errno) : ssl_error_text());
    }
    ssize_t n = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      TRY(wait(POLLOUT, deadline, "sending the request"));
    } else if (errno != EINTR) {
      return fail(Errc::network, "{}: sending the request: {}", m_where, std::strerror(errno));
    }
  }
  return {};
}

Result<size_t> Connection::read_some(char* buf, size_t n, Clock::time_point deadline) {
  for (;;) {
    if (m_ssl != nullptr) {
      size_t got = 0;
      ERR_clear_error();
      if (SSL_read_ex(m_ssl, buf, n, &got) == 1) {
        return got;
      }
      int err = SSL_get_error(m_ssl, 0);
      if (err == SSL_ERROR_ZERO_RETURN) {
        return 0;
      }
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        TRY(wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, "waiting for the response"));
        continue;
      }
      if (err == SSL_ERROR_SYSCALL && errno == 0) {
        return 0;
      }
      return fail(Errc::network, "{}: reading the response: {}", m_where,
                  err == SSL_ERROR_SYSCALL ? std::strerror(errno) : ssl_error_text());
    }
    ssize_t got = ::recv(m_fd, buf, n, 0);
    if (got >= 0) {
      return static_cast<size_t>(got);
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      TRY(wait(POLLIN, deadline, "waiting for the response"));
    } else if (errno != EINTR) {
      return fail(Errc::network, "{}: reading the response: {}", m_where, std::strerror(errno));
    }
  }
}

}  // namespace binder::common::http::detail
