// One HTTP/1.1 request/response over a fresh connection: the request head is written with Host,
// User-Agent, Connection: close and Content-Length; the response is framed by Content-Length,
// chunked transfer coding, or the end of the connection (RFC 9112 §6.3). Interim 1xx responses
// are skipped. Bodies can be streamed to a sink (downloads) instead of kept in memory.
#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/http_internal.hpp"
#include "common/text.hpp"

namespace binder::common::http::detail {
namespace {

constexpr size_t k_max_head = 256 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

using common::trim;

bool has_header(const Request& r, std::string_view name) {
  return std::any_of(r.headers.begin(), r.headers.end(),
                     [&](const Header& h) { return iequals(h.name, name); });
}

// Buffered reader over a Connection with the exchange's deadline policy.
class Reader {
 public:
  Reader(Connection& c, const Options& o, bool idle)
      : m_conn(c), m_timeout(o.request_timeout), m_idle(idle), m_deadline(Clock::now() + o.request_timeout) {}

  // Reads more data into the buffer; false at end of stream.
  Result<bool> fill() {
    char buf[16384];
    auto deadline = m_idle ? Clock::now() + m_timeout : m_deadline;
    TRY_ASSIGN(size_t n, m_conn.read_some(buf, sizeof buf, deadline));
    m_buf.append(buf, n);
    return n > 0;
  }

  Result<std::string> line() {
    for (;;) {
      if (auto pos = m_buf.find("\r\n"); pos != std::string::npos) {
        std::string l = m_buf.substr(0, pos);
        m_buf.erase(0, pos + 2);
        return l;
      }
      if (m_buf.size() > k_max_head) {
        return fail(Errc::network, "response line too long");
      }
      TRY_ASSIGN(bool more, fill());
      if (!more) {
        return fail(Errc::network, "connection closed before the response was complete");
      }
    }
  }

  // Passes exactly n bytes (or everything until EOF when n < 0) to out.
  template <typename Out>
  Result<void> body(std::int64_t n, Out&& out) {
    for (;;) {
      if (!m_buf.empty()) {
        size_t take = n < 0 ? m_buf.size() : std::min<size_t>(m_buf.size(), static_cast<size_t>(n));
        TRY(out(std::string_view(m_buf).substr(0, take)));
        m_buf.erase(0, take);
        if (n >= 0) {
          n -= static_cast<std::int64_t>(take);
        }
      }
      if (n == 0) {
        return {};
      }
      TRY_ASSIGN(bool more, fill());
      if (!more) {
        if (n < 0) {
          return {};
        }
        return fail(Errc::network, "connection closed with {} bytes of the body missing", n);
      }
    }
  }

 private:
  Connection& m_conn;
  std::chrono::milliseconds m_timeout;
  bool m_idle;
  Clock::time_point m_deadline;
  std::string m_buf;
};

Result<Response> read_head(Reader& reader) {
  Response resp;
  TRY_ASSIGN(std::string status_line, reader.line());
  // "HTTP/1.1 200 OK"
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
    return fail(Errc::network, "malformed status line '{}'", status_line.substr(0, 80));
  }
  std::string_view code = std::string_view(status_line).substr(9, 3);
  if (std::from_chars(code.data(), code.data() + 3, resp.status).ec != std::errc{}) {
    return fail(Errc::network, "malformed status line '{}'", status_line.substr(0, 80));
  }
  for (;;) {
    TRY_ASSIGN(std::string l, reader.line());
    if (l.empty()) {
      break;
    }
    auto colon = l.find(':');
    if (colon == std::string::npos) {
      return fail(Errc::network, "malformed response header line");
    }
    resp.headers.push_back({std::string(trim(std::string_view(l).substr(0, colon))),
                            std::string(trim(std::string_view(l).substr(colon + 1)))});
  }
  return resp;
}

template <typename Out>
Result<void> read_chunked(Reader& reader, Out&& out) {
  for (;;) {
    TRY_ASSIGN(std::string size_line, reader.line());
    std::string_view hex = trim(std::string_view(size_line).substr(0, size_line.find(';')));
    std::uint64_t size = 0;
    auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
    if (ec != std::errc{} || p != hex.data() + hex.size() || hex.empty()) {
      return fail(Errc::network, "malformed chunk size '{}'", size_line.substr(0, 40));
    }
    if (size == 0) {
      // Trailer fields, then the empty line.
      for (;;) {
        TRY_ASSIGN(std::string trailer, reader.line());
        if (trailer.empty()) {
          return {};
        }
      }
    }
    TRY(reader.body(static_cast<std::int64_t>(size), out));
    TRY_ASSIGN(std::string crlf, reader.line());
    if (!crlf.empty()) {
      return fail(Errc::network, "missing CRLF after a chunk");
    }
  }
}

std::string request_head(const Url& url, const Options& o, const Request& r) {
  std::string head = fmt::format("{} {} HTTP/1.1\r\n", r.method, url.target);
  if (!has_header(r, "Host")) {
    head += fmt::format("Host: {}\r\n", host_header(url));
  }
  if (!has_header(r, "User-Agent")) {
    head += fmt::format("User-Agent: {}\r\n", o.user_agent);
  }
  head += "Connection: close\r\n";
  bool wants_length = !r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
  if (wants_length && !has_header(r, "Content-Length")) {
    head += fmt::format("Content-Length: {}\r\n", r.body.size());
  }
  for (const auto& h : r.headers) {
    if (iequals(h.name, "Connection")) {
      continue;
    }
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  head += "\r\n";
  return head;
}

}  // namespace

std::string describe(const Request& request) {
  std::string url = request.url.substr(0, request.url.find('?'));
  return fmt::format("{} {}", request.method, url);
}

Result<Response> exchange(Client::Tls& tls, const Options& options, const Request& request,
                          const ExchangeOptions& xo) {
  TRY_ASSIGN(Url url, parse_url(request.url));
  auto start = Clock::now();
  if (url.scheme == "https" && tls.ctx == nullptr) {
    TRY_ASSIGN(tls.ctx, make_ssl_ctx(options));
  }
  auto connect_deadline = start + std::min(options.connect_timeout, options.request_timeout);
  Url address = connect_address(url, options.connect_to);
  TRY_ASSIGN(Connection conn,
             Connection::open(url, url.scheme == "https" ? tls.ctx : nullptr, connect_deadline, &address));
  auto write_deadline = start + options.request_timeout;
  TRY(conn.write_all(request_head(url, options, request), write_deadline));
  if (!request.body.empty()) {
    TRY(conn.write_all(request.body, write_deadline));
  }

  Reader reader(conn, options, xo.idle_timeout);
  Response resp;
  do {
    TRY_ASSIGN(resp, read_head(reader));
  } while (resp.status >= 100 && resp.status < 200 && resp.status != 101);

  bool stream = xo.sink != nullptr && xo.sink->on_headers && xo.sink->on_headers(resp);
  auto out = [&](std::string_view data) -> Result<void> {
    if (stream) {
      return xo.sink->on_data(data);
    }
    resp.body.append(data);
    return {};
  };
  bool no_body = request.method == "HEAD" || resp.status == 204 || resp.status == 304 || resp.status < 200;
  if (no_body) {
    return resp;
  }
  auto te = resp.header("Transfer-Encoding");
  if (te && te->find("chunked") != std::string::npos) {
    TRY(read_chunked(reader, out));
  } else if (auto cl = resp.header("Content-Length")) {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (ec != std::errc{} || n < 0) {
      return fail(Errc::network, "malformed Content-Length '{}'", *cl);
    }
    TRY(reader.body(n, out));
  } else {
    TRY(reader.body(-1, out));
  }
  return resp;
}

}  // namespace binder::common::http::detail
