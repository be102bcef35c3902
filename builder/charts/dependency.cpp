// See dependency.hpp.
#include "charts/dependency.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "common/hash.hpp"

namespace binder::charts {
namespace {

using common::Errc;
using common::fail;
namespace http = common::http;

constexpr std::string_view k_helm_layer = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
constexpr std::string_view k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";

bool is_hex64(std::string_view s) {
  if (s.size() != 64)
    return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

std::string with_context(const ChartRef& ref, const std::string& url) {
  return fmt::format("chart '{}' version '{}' from '{}'", ref.name, ref.version, url);
}

// Adds chart/version/URL context to an error (keeping its code).
template <typename T>
Result<T> named(Result<T> r, const ChartRef& ref, const std::string& url) {
  if (!r) {
    auto e = r.error();
    e.message = fmt::format("{}: {}", with_context(ref, url), e.message);
    return std::unexpected(e);
  }
  return r;
}

std::string resolve_relative(std::string base, const std::string& url) {
  if (url.find("://") != std::string::npos) {
    return url;
  }
  while (base.ends_with('/'))
    base.pop_back();
  if (url.starts_with('/')) {
    auto parsed = http::parse_url(base);
    if (parsed) {
      return fmt::format("{}://{}{}", parsed->scheme, http::host_header(*parsed), url);
    }
  }
  return base + "/" + url;
}

Result<ResolvedChart> from_index(const ChartRef& ref, const std::string& repo, const Mirrors& mirrors,
                                 Downloader& dl) {
  std::string base = repo;
  while (base.ends_with('/'))
    base.pop_back();
  std::string index_url = base + "/index.yaml";
  TRY_ASSIGN(http::Response r, named(dl.get(index_url), ref, index_url));
  YAML::Node index;
  try {
    index = YAML::Load(r.body);
  } catch (const YAML::Exception& e) {
    return fail(Errc::network, "{}: index.yaml is not YAML: {}", with_context(ref, index_url), e.what());
  }
  YAML::Node entries = index["entries"] ? index["entries"][ref.name] : YAML::Node();
  if (!entries || !entries.IsSequence()) {
    return fail(Errc::invalid_config, "{}: the repository has no chart '{}'", with_context(ref, index_url),
                ref.name);
  }
  std::vector<std::string> versions;
  for (const auto& e : entries) {
    std::string v = e["version"] ? e["version"].as<std::string>("") : "";
    if (v != ref.version) {
      versions.push_back(v);
      continue;
    }
    if (!e["urls"] || !e["urls"].IsSequence() || e["urls"].size() == 0) {
      return fail(Errc::network, "{}: index entry has no urls", with_context(ref, index_url));
    }
    std::string digest = e["digest"] ? e["digest"].as<std::string>("") : "";
    if (digest.starts_with("sha256:"))
      digest = digest.substr(7);
    if (!is_hex64(digest)) {
      return fail(Errc::network, "{}: index entry has no sha256 digest (got '{}')",
                  with_context(ref, index_url), digest);
    }
    // Relative URLs resolve against the repository as Chart.yaml names it; then the mirrors
    // apply (to absolute URLs in the index too).
    std::string url =
        apply_mirrors(resolve_relative(ref.repository, e["urls"][0].as<std::string>("")), mirrors);
    std::string name = fmt::format("{}-{}.tgz", ref.name, ref.version);
    TRY_ASSIGN(Download d, named(dl.verified(url, digest, name), ref, url));
    return ResolvedChart{ref, url, "sha256:" + digest, std::move(d.bytes), d.cached};
  }
  std::string known;
  for (std::size_t i = 0; i < versions.size() && i < 5; ++i) {
    known += (i ? ", " : "") + versions[i];
  }
  return fail(Errc::invalid_config, "{}: unknown version (the repository has {}{})",
              with_context(ref, index_url), known.empty() ? "none" : known,
              versions.size() > 5 ? ", ..." : "");
}

// "Bearer realm="x",service="y",scope="z"" -> its parameters.
std::map<std::string, std::string> parse_challenge(std::string_view h) {
  std::map<std::string, std::string> out;
  if (auto sp = h.find(' '); sp != std::string_view::npos) {
    h.remove_prefix(sp + 1);
  }
  while (!h.empty()) {
    while (!h.empty() && (h.front() == ' ' || h.front() == ','))
      h.remove_prefix(1);
    auto eq = h.find('=');
    if (eq == std::string_view::npos)
      break;
    std::string key(h.substr(0, eq));
    h.remove_prefix(eq + 1);
    std::string value;
    if (!h.empty() && h.front() == '"') {
      auto end = h.find('"', 1);
      value = std::string(h.substr(1, end == std::string_view::npos ? h.npos : end - 1));
      h.remove_prefix(end == std::string_view::npos ? h.size() : end + 1);
    } else {
      auto end = h.find(',');
      value = std::string(h.substr(0, end));
      h.remove_prefix(end == std::string_view::npos ? h.size() : end);
    }
    out[key] = value;
  }
  return out;
}

Result<ResolvedChart> from_oci(const ChartRef& ref, const std::string& repo, Downloader& dl) {
  // oci://host/path -> https://host + /path; an http(s):// mirror keeps its scheme.
  std::string rest = repo;
  std::string scheme = "https://";
  if (rest.starts_with("oci://")) {
    rest = rest.substr(6);
  } else if (rest.starts_with("oci+http://")) {
    rest = rest.substr(11);
    scheme = "http://";
  }
  while (rest.ends_with('/'))
    rest.pop_back();
  auto slash = rest.find('/');
  if (slash == std::string::npos) {
    return fail(Errc::invalid_config, "{}: OCI reference has no repository path", with_context(ref, repo));
  }
  std::string registry = scheme + rest.substr(0, slash);
  std::string path = rest.substr(slash + 1);
  if (!ref.oci_full_ref) {
    path += "/" + ref.name;
  }
  std::string manifest_url = fmt::format("{}/v2/{}/manifests/{}", registry, path, ref.version);
  std::vector<http::Header> headers{{"Accept", std::string(k_oci_manifest)}};
  TRY_ASSIGN(http::Response r, named(dl.get(manifest_url, headers, {401, 404}), ref, manifest_url));
  std::vector<http::Header> auth;
  if (r.status == 401) {
    auto challenge = parse_challenge(r.header("WWW-Authenticate").value_or(""));
    if (!challenge.contains("realm")) {
      return fail(Errc::network, "{}: HTTP 401 without a Bearer challenge", with_context(ref, manifest_url));
    }
    std::string token_url = challenge["realm"];
    char sep = token_url.find('?') == std::string::npos ? '?' : '&';
    for (const char* k : {"service", "scope"}) {
      if (challenge.contains(k)) {
        token_url += fmt::format("{}{}={}", sep, k, http::percent_encode(challenge[k]));
        sep = '&';
      }
    }
    if (!challenge.contains("scope")) {
      token_url += fmt::format("{}scope={}", sep, http::percent_encode("repository:" + path + ":pull"));
    }
    TRY_ASSIGN(http::Response t, named(dl.get(token_url), ref, token_url));
    auto j = nlohmann::json::parse(t.body, nullptr, false);
    std::string token = j.is_object() ? j.value("token", j.value("access_token", "")) : "";
    if (token.empty()) {
      return fail(Errc::network, "{}: the token endpoint returned no token", with_context(ref, token_url));
    }
    auth.push_back({"Authorization", "Bearer " + token});
    headers.push_back(auth.back());
    TRY_ASSIGN(r, named(dl.get(manifest_url, headers, {404}), ref, manifest_url));
  }
  if (r.status == 404) {
    return fail(Errc::invalid_config, "{}: unknown version (the registry has no manifest '{}')",
                with_context(ref, manifest_url), ref.version);
  }
  auto manifest = nlohmann::json::parse(r.body, nullptr, false);
  std::string digest;
  if (manifest.is_object() && manifest.contains("layers") && manifest["layers"].is_array()) {
    for (const auto& layer : manifest["layers"]) {
      if (layer.is_object() && layer.value("mediaType", "") == k_helm_layer) {
        digest = layer.value("digest", "");
      }
    }
  }
  if (!digest.starts_with("sha256:") || !is_hex64(digest.substr(7))) {
    return fail(Errc::network, "{}: the manifest has no helm chart layer with a sha256 digest",
                with_context(ref, manifest_url));
  }
  std::string blob_url = fmt::format("{}/v2/{}/blobs/{}", registry, path, digest);
  std::string name = fmt::format("{}-{}.tgz", ref.name, ref.version);
  TRY_ASSIGN(Download d, named(dl.verified(blob_url, digest.substr(7), name, auth.empty() ? headers : auth),
                               ref, blob_url));
  return ResolvedChart{ref, blob_url, digest, std::move(d.bytes), d.cached};
}

}  // namespace

Result<ResolvedChart> resolve_chart(const ChartRef& ref, const Mirrors& mirrors, Downloader& dl) {
  std::string repo = apply_mirrors(ref.repository, mirrors);
  if (repo.starts_with("oci://") || repo.starts_with("oci+http://")) {
    return from_oci(ref, repo, dl);
  }
  if (!repo.starts_with("https://") && !repo.starts_with("http://") && !repo.starts_with("file://")) {
    return fail(Errc::invalid_config, "{}: unsupported repository (use https://, oci:// or a mirror)",
                with_context(ref, repo));
  }
  return from_index(ref, repo, mirrors, dl);
}

}  // namespace binder::charts
