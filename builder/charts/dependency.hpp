// Resolving one chart dependency as `helm dependency build` does, without helm:
//   HTTP repository: GET <repo>/index.yaml, find entries.<name>[] with that exact version, download
//                    its first URL (relative URLs resolve against the repository) and check the
//                    archive against the entry's sha256 `digest`.
//   OCI registry (oci://host/path): OCI distribution API. GET /v2/<path>/<name>/manifests/<version>
//                    (Accept: OCI image manifest); a 401 is answered by the WWW-Authenticate
//                    Bearer challenge (realm, service, scope -> anonymous token, then retry); the
//                    layer with mediaType application/vnd.cncf.helm.chart.content.v1.tar+gzip is
//                    fetched from /v2/<path>/<name>/blobs/<digest> and verified against it.
// Repository URLs pass through the profile's repository_mirrors first (tests point them at
// fakes on 127.0.0.1 or fixture directories). The URL after mirroring decides the protocol:
// oci:// (OCI over https) or oci+http:// (OCI over plain http, loopback fakes) is a registry;
// https://, http:// or file:// is a Helm repository with index.yaml, whatever the original was.
// Every error names the chart, the version and the URL: Errc::network (unreachable, HTTP
// errors), Errc::checksum (digest mismatch), Errc::invalid_config (unknown chart or version).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "charts/download.hpp"

namespace binder::charts {

using Mirrors = std::vector<std::pair<std::string, std::string>>;

struct ChartRef {
  std::string name;
  std::string version;
  std::string repository;  // as written in Chart.yaml: https://... or oci://...
  // True for a full OCI chart reference (oci://quay.io/jetstack/charts/cert-manager): the
  // repository already ends with the chart name.
  bool oci_full_ref = false;
};

struct ResolvedChart {
  ChartRef ref;
  std::string url;     // where the archive came from (after mirrors)
  std::string digest;  // "sha256:<hex>" of the archive
  std::string bytes;   // the chart .tgz as published
  bool cached = false;
};

Result<ResolvedChart> resolve_chart(const ChartRef& ref, const Mirrors& mirrors, Downloader& dl);

}  // namespace binder::charts
