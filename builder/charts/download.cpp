// See download.hpp.
#include "charts/download.hpp"

#include "common/fs.hpp"
#include "common/hash.hpp"

namespace binder::charts {
namespace {

using common::Errc;
using common::fail;
namespace http = common::http;
namespace stdfs = std::filesystem;

}  // namespace

Downloader::Downloader(base::CacheDir cache, http::Options options)
    : m_cache(std::move(cache)), m_http(std::move(options)) {}

Result<http::Response> Downloader::get(const std::string& first_url, const std::vector<http::Header>& headers,
                                       std::vector<int> allow) {
  if (first_url.starts_with("file://")) {
    auto text = common::fs::read_file(first_url.substr(7));
    if (!text) {
      return fail(Errc::network, "GET {}: {}", first_url, text.error().message);
    }
    http::Response r;
    r.status = 200;
    r.body = std::move(*text);
    return r;
  }
  http::Client client(m_http);
  std::string url = first_url;
  std::vector<http::Header> hs = headers;
  for (int redirects = 0;; ++redirects) {
    auto r = client.send(http::Request{"GET", url, hs, ""});
    if (!r) {
      return fail(Errc::network, "GET {}: {}", url, r.error().message);
    }
    if (r->status >= 300 && r->status < 400 && r->header("Location")) {
      if (redirects >= m_http.max_redirects) {
        return fail(Errc::network, "GET {}: too many redirects", first_url);
      }
      std::string next = http::resolve_location(url, *r->header("Location"));
      // Credentials stay with the host that asked for them (blob stores sign their own URLs).
      auto a = http::parse_url(url);
      auto b = http::parse_url(next);
      if (!a || !b || a->host != b->host || a->port != b->port) {
        std::erase_if(
            hs, [](const http::Header& h) { return h.name == "Authorization" || h.name == "authorization"; });
      }
      url = next;
      continue;
    }
    if (r->status >= 200 && r->status < 300) {
      return r;
    }
    for (int s : allow) {
      if (r->status == s) {
        return r;
      }
    }
    return fail(Errc::network, "GET {}: HTTP {}", url, r->status);
  }
}

Result<Download> Downloader::publish(std::string bytes, const std::string& sha256, const std::string& name) {
  stdfs::path dir = m_cache.downloads() / sha256;
  stdfs::path entry = dir / name;
  std::error_code ec;
  if (!stdfs::is_regular_file(entry, ec)) {
    TRY(common::fs::make_directories(dir));
    TRY(common::fs::write_file_atomic(entry, bytes, 0644));
  }
  return Download{std::move(bytes), sha256, false};
}

Result<Download> Downloader::verified(const std::string& url, const std::string& sha256,
                                      const std::string& name, const std::vector<http::Header>& headers) {
  stdfs::path entry = m_cache.downloads() / sha256 / name;
  std::error_code ec;
  if (stdfs::is_regular_file(entry, ec)) {
    TRY_ASSIGN(std::string bytes, common::fs::read_file(entry));
    return Download{std::move(bytes), sha256, true};
  }
  if (headers.empty()) {
    base::ArtifactSource src;
    src.url = url;
    src.sha256 = sha256;
    src.name = name;
    base::FetchOptions options;
    options.http = m_http;
    auto got = base::fetch_artifact(src, m_cache, options);
    if (!got) {
      auto e = got.error();
      if (e.code != Errc::checksum && e.code != Errc::invalid_config) {
        e.code = Errc::network;
      }
      return std::unexpected(e);
    }
    TRY_ASSIGN(std::string bytes, common::fs::read_file(got->path));
    return Download{std::move(bytes), sha256, got->cached};
  }
  TRY_ASSIGN(http::Response r, get(url, headers));
  std::string actual = common::hash::sha256_hex(r.body);
  if (actual != sha256) {
    return fail(Errc::checksum, "checksum mismatch for '{}': expected sha256 {}, got {}", url, sha256,
                actual);
  }
  return publish(std::move(r.body), sha256, name);
}

Result<Download> Downloader::unpinned(const std::string& url, const std::string& name) {
  TRY_ASSIGN(http::Response r, get(url));
  std::string sha = common::hash::sha256_hex(r.body);
  return publish(std::move(r.body), sha, name);
}

std::string apply_mirrors(const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& mirrors) {
  const std::pair<std::string, std::string>* best = nullptr;
  for (const auto& m : mirrors) {
    if (url.starts_with(m.first) && (best == nullptr || m.first.size() > best->first.size())) {
      best = &m;
    }
  }
  return best == nullptr ? url : best->second + url.substr(best->first.size());
}

}  // namespace binder::charts
