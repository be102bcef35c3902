// Downloads for chart resolution, on the builder's download cache (base/fetch.hpp):
// content-addressed archives go through base::fetch_artifact (verified, resumable, published by
// rename); OCI blobs, which need a bearer token, are fetched into memory, verified and published
// into the same cache layout. Small documents (index.yaml, OCI manifests, tokens) are fetched
// into memory. http(s):// and file:// URLs; redirects are followed. Every error names the URL.
#pragma once

#include <string>
#include <vector>

#include "base/fetch.hpp"
#include "common/http.hpp"
#include "common/result.hpp"

namespace binder::charts {

using common::Result;

struct Download {
  std::string bytes;
  std::string sha256;
  bool cached = false;
};

class Downloader {
 public:
  explicit Downloader(base::CacheDir cache, common::http::Options http = {});

  // GET into memory with redirects. Errc::network for a failed connection or a non-2xx status
  // (the status is in the message; Response is returned for 401/404 when `allow` lists it).
  Result<common::http::Response> get(const std::string& url,
                                     const std::vector<common::http::Header>& headers = {},
                                     std::vector<int> allow = {});

  // A file with a known sha256 (64 hex), cached as downloads/<sha256>/<name>. Errc::checksum on
  // a mismatch (nothing cached).
  Result<Download> verified(const std::string& url, const std::string& sha256, const std::string& name,
                            const std::vector<common::http::Header>& headers = {});

  // A file with no known sha256: downloaded every time, hashed, then cached under its sha256.
  Result<Download> unpinned(const std::string& url, const std::string& name);

  const base::CacheDir& cache() const { return m_cache; }

 private:
  Result<Download> publish(std::string bytes, const std::string& sha256, const std::string& name);
  base::CacheDir m_cache;
  common::http::Options m_http;
};

// Replaces the longest matching prefix of `url` from `mirrors` (prefix -> replacement).
std::string apply_mirrors(const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& mirrors);

}  // namespace binder::charts
