// Test fixture: a binder-image's packaged charts under a temp root, as the builder's charts layer
// writes them (notes/charts-contract.md): tiny stand-in archives, a one-CRD cert-manager CRDs
// file, mybinder's config/cert-manager.yaml and /etc/binder-image/charts.json with their sha256.
// Header-only; used by the render tests and tests/integration/federation.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/hash.hpp"

namespace binder::firstboot::render::fixtures {

inline constexpr const char* k_fixture_mybinder_version = "2020.12.4-0.dev.git.7587.h95860dbc";

inline const char* fixture_crds_yaml() {
  return "# cert-manager CRDs (fixture)\n"
         "---\n"
         "apiVersion: apiextensions.k8s.io/v1\n"
         "kind: CustomResourceDefinition\n"
         "metadata:\n"
         "  name: clusterissuers.cert-manager.io\n"
         "spec:\n"
         "  group: cert-manager.io\n"
         "  names:\n"
         "    kind: ClusterIssuer\n"
         "    plural: clusterissuers\n"
         "  scope: Cluster\n"
         "  versions:\n"
         "  - name: v1\n"
         "    served: true\n"
         "    storage: true\n"
         "    schema:\n"
         "      openAPIV3Schema:\n"
         "        type: object\n"
         "        x-kubernetes-preserve-unknown-fields: true\n"
         "---\n";
}

inline const char* fixture_cert_manager_values() {
  return "ingressShim:\n  defaultIssuerName: letsencrypt-prod\n  defaultIssuerKind: ClusterIssuer\n"
         "resources:\n  requests:\n    cpu: 15m\n    memory: 48Mi\n  limits:\n    cpu: 45m\n    memory: 144Mi\n";
}

// Writes the files under `root` and returns the manifest JSON it wrote.
inline nlohmann::json write_image_charts(const std::filesystem::path& root) {
  const std::string dir = "/var/lib/rancher/k3s/server/static/charts/";
  const std::string mb = dir + "mybinder-" + k_fixture_mybinder_version + ".tgz";
  const std::string cm = dir + "cert-manager-v1.20.2.tgz";
  const std::string crds = dir + "cert-manager-v1.20.2.crds.yaml";
  const std::string values = "/usr/share/binder-image/mybinder/config/cert-manager.yaml";
  auto put = [&](const std::string& abs, const std::string& text) {
    auto path = root / std::filesystem::path(abs).relative_path();
    (void)common::fs::make_directories(path.parent_path());
    (void)common::fs::write_file_atomic(path, text, 0644);
    return common::hash::sha256_hex(text);
  };
  std::string mb_sha = put(mb, std::string("\x1f\x8b fake mybinder chart archive", 30));
  std::string cm_sha = put(cm, std::string("\x1f\x8b fake cert-manager chart", 26));
  std::string crds_sha = put(crds, fixture_crds_yaml());
  put(values, fixture_cert_manager_values());
  nlohmann::json manifest = {{"schema", 1},
                             {"mybinder",
                              {{"chart", "mybinder"},
                               {"version", k_fixture_mybinder_version},
                               {"file", mb},
                               {"sha256", mb_sha},
                               {"source", {{"commit", "95860dbcba2031b930020dbd856e76cd37ba34c8"}}},
                               {"excluded_files", {"files/minesweeper/secrets/herorat.py"}},
                               {"future_key", "ignored"}}},
                             {"cert_manager",
                              {{"chart", "cert-manager"},
                               {"version", "v1.20.2"},
                               {"file", cm},
                               {"sha256", cm_sha},
                               {"crds_file", crds},
                               {"crds_sha256", crds_sha},
                               {"values_file", values}}},
                             {"files_dir", "/usr/share/binder-image/mybinder"}};
  put("/etc/binder-image/charts.json", manifest.dump(2) + "\n");
  return manifest;
}

}  // namespace binder::firstboot::render::fixtures
