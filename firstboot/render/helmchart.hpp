// k3s HelmChart (helm.cattle.io/v1) manifests and the Secrets their valuesSecrets point at. The
// manifest carries only non-secret values (valuesContent, YAML text); secret values live in a
// Secret `<values_secret>` in the HelmChart's namespace under key "values.yaml", which the
// helm-controller layers above valuesContent. targetNamespace is always set explicitly (the
// controller's default is the HelmChart's own namespace, not "default"; api-notes.md §3).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "firstboot/render/charts.hpp"

namespace binder::firstboot::render {

// The key of the values document inside a values Secret.
inline constexpr const char* k_values_secret_key = "values.yaml";

// spec.failurePolicy of every HelmChart. Not the controller's default `reinstall`: that runs
// `helm uninstall` on a release whose upgrade failed, taking Harbor's registry and the hub
// database down with it. `abort` leaves the release as it is and sets the HelmChart's `Failed`
// condition, which `binder-firstboot status` reports. `retry` would be gentler, but it needs
// helm-controller v0.16.25+/v0.17.6+ and klipper-helm from July 2026 (reference/mirror/README.md
// facts (a)); the pinned k3s (profiles/base.yaml, v1.33.5+k3s1) predates both, and its CRD
// rejects the value.
inline constexpr const char* k_failure_policy = "abort";

// HelmChart for `chart` with `values` as valuesContent and, when chart.values_secret is set, a
// valuesSecrets entry for it. createNamespace is true; timeout 15m (Harbor and BinderHub pull
// many images on a fresh VM); failurePolicy k_failure_policy.
nlohmann::json helmchart_manifest(const ChartRef& chart, const nlohmann::json& values);
// The same with valuesContent given as text (kept byte for byte) and `set` (spec.set; omitted
// when empty). spec.repo is omitted when chart.repo is empty (spec.chart is then a URL).
nlohmann::json helmchart_manifest_text(const ChartRef& chart, const std::string& values_yaml,
                                       const nlohmann::json& set);

// v1 Secret `chart.values_secret` (namespace kube-system, type Opaque) holding
// stringData["values.yaml"] = YAML of `secret_values`. Only ever sent to the API server.
nlohmann::json values_secret_manifest(const ChartRef& chart, const nlohmann::json& secret_values);
// The same with the values document given as text (kept byte for byte).
nlohmann::json values_secret_manifest_text(const ChartRef& chart, const std::string& values_yaml);

}  // namespace binder::firstboot::render
