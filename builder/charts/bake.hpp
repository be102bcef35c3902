// The charts an image carries (the builder side of /work/notes/charts-contract.md): fetch the
// pinned mybinder.org-deploy source archive, resolve mybinder's dependencies and cert-manager,
// apply the chartpress pins, package, and return every file of the image's charts layer with
// /etc/binder-image/charts.json describing them.
//
// Source archive rule: with `sha256` set the archive must match it (and, when it carries one, its
// pax commit id must equal `commit`). With `sha256` empty (GitHub does not promise stable
// archive bytes) the archive is downloaded on every build, its pax global header commit id (what
// `git get-tar-commit-id` reads) must equal `commit`, and the computed sha256 is returned (a
// warning, and it is recorded in charts.json, the manifest and the SBOM). The CRDs file follows
// the same rule with `crds_sha256` (no commit id to check: the release URL names the version).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "charts/dependency.hpp"

namespace binder::charts {

inline constexpr std::string_view k_static_charts_dir = "/var/lib/rancher/k3s/server/static/charts";
inline constexpr std::string_view k_files_dir = "/usr/share/binder-image/mybinder";
inline constexpr std::string_view k_charts_json = "/etc/binder-image/charts.json";
inline constexpr std::string_view k_cert_manager_oci = "oci://quay.io/jetstack/charts/cert-manager";
inline constexpr std::string_view k_cert_manager_release =
    "https://github.com/cert-manager/cert-manager/releases/download/";

struct ChartsOptions {
  std::string url;                            // source archive
  std::string commit;                         // 40 hex
  std::string sha256;                         // of the archive, or empty (see above)
  std::string version;                        // pinned mybinder chart version
  std::map<std::string, std::string> images;  // values path -> repo:tag
  std::string cert_manager_version;           // empty: from the archive's cert-manager.env
  std::string crds_url;                       // empty: the release file of that version
  std::string crds_sha256;                    // empty: computed and recorded
  Mirrors mirrors;
  std::int64_t mtime = 0;
};

struct ImageFile {
  std::string path;  // absolute path in the image
  std::string data;
  unsigned mode = 0644;
};

struct BakedCharts {
  std::vector<ImageFile> files;  // sorted by path; includes charts.json
  nlohmann::json charts_json;    // what charts.json holds
  std::vector<std::string> warnings;
  // Every resolved input, "key=value" lines, sorted (layer transcript, manifest).
  std::map<std::string, std::string> inputs;
};

// The "KEY=value" of a cert-manager.env ("export CERT_MANAGER_VERSION=v1.20.2").
std::string env_value(std::string_view env_text, std::string_view key);

Result<BakedCharts> bake_charts(const ChartsOptions& o, Downloader& dl);

}  // namespace binder::charts
