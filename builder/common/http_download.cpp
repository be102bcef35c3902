// Client::download: a resumable GET into a file. Each attempt asks for "Range: bytes=<size>-"
// when the file already has data; 206 appends (after checking Content-Range starts where the file
// ends), 200 rewrites from the start, 416 with "bytes */<size>" means the file is complete. A
// connection dropped mid-body keeps what arrived, so the next attempt resumes there. Redirects
// are followed for downloads only (mirrors, release assets).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "common/http_internal.hpp"
#include "common/log.hpp"

namespace binder::common::http {
namespace {

class Fd {
 public:
  ~Fd() { reset(); }
  void reset(int fd = -1) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = fd;
  }
  int get() const { return m_fd; }

 private:
  int m_fd = -1;
};

std::int64_t parse_int(std::string_view s) {
  std::int64_t v = -1;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size() ? v : -1;
}

// "bytes 100-199/1000" -> {100, 1000}; "bytes */1000" -> {-1, 1000}; unknown total -1.
std::pair<std::int64_t, std::int64_t> parse_content_range(const std::string& v) {
  if (!v.starts_with("bytes ")) {
    return {-1, -1};
  }
  std::string_view rest = std::string_view(v).substr(6);
  auto slash = rest.find('/');
  std::string_view range = rest.substr(0, slash);
  std::int64_t total = slash == std::string_view::npos ? -1 : parse_int(rest.substr(slash + 1));
  std::int64_t start = range == "*" ? -1 : parse_int(range.substr(0, range.find('-')));
  return {start, total};
}

}  // namespace

std::string resolve_location(const std::string& base, const std::string& location) {
  if (location.find("://") != std::string::npos) {
    return location;
  }
  auto url = parse_url(base);
  if (!url) {
    return location;
  }
  std::string origin = fmt::format("{}://{}", url->scheme, host_header(*url));
  if (location.starts_with("//")) {
    return url->scheme + ":" + location;
  }
  if (location.starts_with("/")) {
    return origin + location;
  }
  std::string dir = url->target.substr(0, url->target.find('?'));
  dir.erase(dir.rfind('/') + 1);
  return origin + dir + location;
}

Result<void> Client::download(const std::string& first_url, const std::filesystem::path& path,
                              const ProgressFn& progress) {
  std::string url = first_url;
  int redirects = 0;
  int attempts = std::max(1, m_options.max_attempts);
  for (int attempt = 1;;) {
    std::error_code ec;
    std::int64_t have = std::filesystem::exists(path, ec)
                            ? static_cast<std::int64_t>(std::filesystem::file_size(path, ec))
                            : 0;
    if (ec) {
      return fail(Errc::io, "reading the size of '{}': {}", path.string(), ec.message());
    }
    Request req{"GET", url, {}, ""};
    if (have > 0) {
      req.headers.push_back({"Range", fmt::format("bytes={}-", have)});
    }
    Fd fd;
    std::int64_t done = 0;
    std::int64_t total = -1;
    bool range_mismatch = false;
    detail::BodySink sink;
    sink.on_headers = [&](const Response& r) {
      int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
      if (r.status == 206 && have > 0) {
        auto [start, size] = parse_content_range(r.header("Content-Range").value_or(""));
        if (start != have) {
          range_mismatch = true;
          return false;
        }
        flags |= O_APPEND;
        done = have;
        total = size;
      } else if (r.status == 200) {
        flags |= O_TRUNC;
        auto cl = r.header("Content-Length");
        total = cl ? parse_int(*cl) : -1;
      } else {
        return false;
      }
      fd.reset(::open(path.c_str(), flags, 0644));
      return true;
    };
    sink.on_data = [&](std::string_view data) -> Result<void> {
      if (fd.get() < 0) {
        return fail(Errc::io, "opening '{}' for writing: {}", path.string(), std::strerror(errno));
      }
      while (!data.empty()) {
        ssize_t n = ::write(fd.get(), data.data(), data.size());
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n < 0) {
          return fail(Errc::io, "writing '{}': {}", path.string(), std::strerror(errno));
        }
        data.remove_prefix(static_cast<size_t>(n));
        done += n;
      }
      if (progress) {
        progress(done, total);
      }
      return {};
    };
    detail::ExchangeOptions xo{.idle_timeout = true, .sink = &sink};
    auto r = detail::exchange(*m_tls, m_options, req, xo);
    fd.reset();
    if (r && r->status >= 300 && r->status < 400 && r->header("Location")) {
      if (++redirects > m_options.max_redirects) {
        return fail(Errc::network, "GET {}: more than {} redirects", first_url, m_options.max_redirects);
      }
      url = resolve_location(url, *r->header("Location"));
      continue;
    }
    if (r && (r->status == 200 || (r->status == 206 && !range_mismatch))) {
      return {};
    }
    if (r && r->status == 416 && have > 0) {
      auto [start, size] = parse_content_range(r->header("Content-Range").value_or(""));
      if (size == have) {
        return {};  // already complete
      }
    }
    bool restart = r && (range_mismatch || r->status == 416);
    if (restart) {
      std::filesystem::remove(path, ec);
    }
    if (!r && !detail::is_retriable(r.error())) {
      r.error().with_context(detail::describe(req));
      return std::unexpected(r.error());
    }
    if (r && !restart && !detail::retriable_status(r->status)) {
      return fail(Errc::network, "GET {}: HTTP {}", detail::describe(req).substr(4), r->status);
    }
    if (attempt >= attempts) {
      std::string why = r ? fmt::format("HTTP {}", r->status) : r.error().message;
      return fail(Errc::temporary, "{}: {} (gave up after {} attempts)", detail::describe(req), why,
                  attempts);
    }
    auto delay = detail::delay_after(m_options, attempt, r ? &*r : nullptr);
    log::warn("{}: {} (attempt {}/{}), retrying in {} ms", detail::describe(req),
              r ? fmt::format("HTTP {}", r->status) : r.error().message, attempt, attempts, delay.count());
    std::this_thread::sleep_for(delay);
    ++attempt;
  }
}

}  // namespace binder::common::http
