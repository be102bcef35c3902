// The HTTP client's public face: URL helpers and Client::send with its retry policy. Retries use
// exponential backoff with full jitter (sleep uniform in [0, min(max, base * 2^n)]), or the
// server's Retry-After (delta-seconds or HTTP-date) capped by backoff_max. Only transport errors
// that may heal (not certificate verification) and 429/5xx responses are retried.
#include <time.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <random>
#include <thread>

#include "common/http_internal.hpp"
#include "common/log.hpp"

namespace binder::common::http {

Result<Url> parse_url(const std::string& text) {
  Url url;
  auto sep = text.find("://");
  if (sep == std::string::npos) {
    return fail(Errc::invalid_config, "'{}' is not a URL (no scheme)", text);
  }
  url.scheme = text.substr(0, sep);
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (url.scheme != "https" && url.scheme != "http") {
    return fail(Errc::invalid_config, "'{}': unsupported scheme '{}'", text, url.scheme);
  }
  std::string rest = text.substr(sep + 3);
  auto path_start = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, path_start);
  url.target = path_start == std::string::npos ? "/" : rest.substr(path_start);
  if (auto hash = url.target.find('#'); hash != std::string::npos) {
    url.target.erase(hash);
  }
  if (url.target.empty() || url.target[0] != '/') {
    url.target = "/" + url.target;  // not insert(0, ..): GCC 12 -Wrestrict false positive
  }
  if (authority.find('@') != std::string::npos) {
    return fail(Errc::invalid_config, "'{}': credentials in URLs are not supported", text);
  }
  std::string port_text;
  if (authority.starts_with("[")) {
    auto close = authority.find(']');
    if (close == std::string::npos) {
      return fail(Errc::invalid_config, "'{}': unterminated IPv6 address", text);
    }
    url.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        return fail(Errc::invalid_config, "'{}': malformed host", text);
      }
      port_text = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.find(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
    }
  }
  if (url.host.empty()) {
    return fail(Errc::invalid_config, "'{}': no host", text);
  }
  url.port = url.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), url.port);
    if (ec != std::errc{} || p != port_text.data() + port_text.size() || url.port <= 0 || url.port > 65535) {
      return fail(Errc::invalid_config, "'{}': bad port '{}'", text, port_text);
    }
  }
  return url;
}

std::string host_header(const Url& url) {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  int default_port = url.scheme == "https" ? 443 : 80;
  return url.port == default_port ? host : fmt::format("{}:{}", host, url.port);
}

Result<void> require_secure(const std::string& text) {
  TRY_ASSIGN(Url url, parse_url(text));
  if (url.scheme == "https" || url.host == "127.0.0.1" || url.host == "localhost" || url.host == "::1") {
    return {};
  }
  return fail(Errc::precondition, "refusing to send credentials over plain http to '{}'", url.host);
}

std::string percent_encode(std::string_view s, bool keep_slash) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name.size() == name.size() &&
        std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return h.value;
    }
  }
  return std::nullopt;
}

Client::Client(Options options) : m_options(std::move(options)), m_tls(std::make_unique<Tls>()) {}
Client::~Client() = default;

Result<Response> Client::send_once(const Request& request) {
  auto start = detail::Clock::now();
  auto r = detail::exchange(*m_tls, m_options, request, {});
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(detail::Clock::now() - start);
  if (r) {
    log::debug("{} -> {} ({} ms)", detail::describe(request), r->status, ms.count());
  } else {
    r.error().with_context(detail::describe(request));
  }
  return r;
}

namespace detail {

bool retriable_status(int status) { return status == 429 || (status >= 500 && status <= 599); }

// Retry-After as a duration: delta-seconds or an IMF-fixdate; nullopt if absent or unparsable.
std::optional<std::chrono::milliseconds> retry_after(const Response& resp) {
  auto value = resp.header("Retry-After");
  if (!value || value->empty()) {
    return std::nullopt;
  }
  long long seconds = 0;
  auto [p, ec] = std::from_chars(value->data(), value->data() + value->size(), seconds);
  if (ec == std::errc{} && p == value->data() + value->size()) {
    return std::chrono::seconds(std::max(0LL, seconds));
  }
  std::tm tm{};
  if (strptime(value->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) {
    return std::nullopt;
  }
  auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(when - std::chrono::system_clock::now());
  return std::max(delta, std::chrono::milliseconds(0));
}

std::chrono::milliseconds backoff(const Options& o, int attempt) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  long long cap = o.backoff_base.count();
  for (int i = 1; i < attempt && cap < o.backoff_max.count(); ++i) {
    cap *= 2;
  }
  cap = std::min(cap, static_cast<long long>(o.backoff_max.count()));
  std::uniform_int_distribution<long long> dist(0, std::max(0LL, cap));
  return std::chrono::milliseconds(dist(rng));
}

std::chrono::milliseconds delay_after(const Options& o, int attempt, const Response* resp) {
  if (resp != nullptr) {
    if (auto ra = retry_after(*resp)) {
      return std::min(*ra, o.backoff_max);
    }
  }
  return backoff(o, attempt);
}

}  // namespace detail

Result<Response> Client::send(const Request& request) {
  int attempts = std::max(1, m_options.max_attempts);
  for (int attempt = 1;; ++attempt) {
    auto r = send_once(request);
    std::chrono::milliseconds delay{};
    if (r) {
      if (!detail::retriable_status(r->status) || attempt >= attempts) {
        return r;
      }
      delay = detail::delay_after(m_options, attempt, &*r);
      log::warn("{}: HTTP {} (attempt {}/{}), retrying in {} ms", detail::describe(request), r->status,
                attempt, attempts, delay.count());
    } else {
      if (!detail::is_retriable(r.error())) {
        return r;
      }
      if (attempt >= attempts) {
        Error e = r.error();
        e.code = Errc::temporary;
        e.message += fmt::format(" (gave up after {} attempts)", attempts);
        return std::unexpected(std::move(e));
      }
      delay = detail::delay_after(m_options, attempt, nullptr);
      log::warn("{} (attempt {}/{}), retrying in {} ms", r.error().to_string(), attempt, attempts,
                delay.count());
    }
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace binder::common::http
