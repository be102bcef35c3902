// HelmChart and values-Secret manifests.
#include "firstboot/render/helmchart.hpp"

#include "firstboot/render/yaml.hpp"

namespace binder::firstboot::render {

using nlohmann::json;

json helmchart_manifest(const ChartRef& chart, const json& values) {
  return helmchart_manifest_text(chart, to_yaml(values), json::object());
}

json helmchart_manifest_text(const ChartRef& chart, const std::string& values_yaml, const json& set) {
  json spec = {
      {"chart", chart.chart},        {"version", chart.version}, {"targetNamespace", chart.target_namespace},
      {"createNamespace", true},     {"timeout", "15m"},         {"failurePolicy", k_failure_policy},
      {"valuesContent", values_yaml}};
  if (!chart.repo.empty())
    spec["repo"] = chart.repo;
  if (set.is_object() && !set.empty())
    spec["set"] = set;
  if (!chart.values_secret.empty()) {
    json ref = {{"name", chart.values_secret}, {"keys", json::array({k_values_secret_key})}};
    spec["valuesSecrets"] = json::array({ref});
  }
  return {{"apiVersion", "helm.cattle.io/v1"},
          {"kind", "HelmChart"},
          {"metadata",
           {{"name", chart.name},
            {"namespace", k_helmchart_namespace},
            {"labels", {{"app.kubernetes.io/managed-by", "binder-firstboot"}}}}},
          {"spec", spec}};
}

json values_secret_manifest(const ChartRef& chart, const json& secret_values) {
  return values_secret_manifest_text(chart, to_yaml(secret_values));
}

json values_secret_manifest_text(const ChartRef& chart, const std::string& values_yaml) {
  json data = json::object();
  data[k_values_secret_key] = values_yaml;
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"type", "Opaque"},
          {"metadata",
           {{"name", chart.values_secret},
            {"namespace", k_helmchart_namespace},
            {"labels", {{"app.kubernetes.io/managed-by", "binder-firstboot"}}}}},
          {"stringData", data}};
}

}  // namespace binder::firstboot::render
