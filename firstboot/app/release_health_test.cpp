// Release health for `status`: the helm-controller's Failed condition (failurePolicy abort), a Job
// past its backoffLimit, a Job still retrying; read through the Kubernetes API and printed.
#include "firstboot/app/release_health.hpp"

#include <catch2/catch.hpp>

#include "firstboot/app/status.hpp"
#include "firstboot/k3s/kube_client.hpp"

using namespace binder::firstboot;
using namespace binder::firstboot::app;
using nlohmann::json;

namespace {

json helmchart(const std::string& name, json status = json::object()) {
  return {{"apiVersion", "helm.cattle.io/v1"},
          {"kind", "HelmChart"},
          {"metadata", {{"name", name}, {"namespace", "kube-system"}}},
          {"status", status}};
}

json job(const std::string& name, json status) {
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata", {{"name", name}, {"namespace", "kube-system"}}},
          {"status", status}};
}

// As helm-controller sets it when the job failed under failurePolicy abort.
json failed_chart(const std::string& name) {
  return helmchart(name,
                   {{"jobName", "helm-install-" + name},
                    {"conditions",
                     {{{"type", "JobCreated"}, {"status", "True"}},
                      {{"type", "Failed"},
                       {"status", "True"},
                       {"reason", "Error"},
                       {"message", "Job failed: helm upgrade: timed out waiting for the condition"}}}}});
}

}  // namespace

TEST_CASE("release health: a HelmChart whose upgrade aborted is reported with the controller's message",
          "[app][status]") {
  auto p = release_problems(
      {helmchart("traefik"), failed_chart("harbor")},
      {job("helm-install-harbor", {{"failed", 1}}), job("helm-install-traefik", {{"succeeded", 1}})});
  REQUIRE(p.size() == 1);
  CHECK(p[0].helmchart == "harbor");
  CHECK(p[0].job == "helm-install-harbor");
  CHECK(p[0].state == "failed");
  CHECK(p[0].message == "Error: Job failed: helm upgrade: timed out waiting for the condition");
}

TEST_CASE(
    "release health: a Job past its backoffLimit is failed, a retrying one is failing, success is healthy",
    "[app][status]") {
  auto p = release_problems(
      {helmchart("binderhub"), helmchart("cert-manager"),
       helmchart("traefik", {{"jobName", "helm-install-traefik"}})},
      {job("helm-install-binderhub",
           {{"failed", 3},
            {"conditions", {{{"type", "Failed"}, {"status", "True"}, {"reason", "BackoffLimitExceeded"}}}}}),
       job("helm-install-cert-manager", {{"failed", 2}, {"active", 1}}),
       job("helm-install-traefik", {{"failed", 1}, {"succeeded", 1}})});
  REQUIRE(p.size() == 2);
  CHECK(p[0].helmchart == "binderhub");
  CHECK(p[0].state == "failed");
  CHECK(p[0].message == "BackoffLimitExceeded");
  CHECK(p[1].helmchart == "cert-manager");
  CHECK(p[1].state == "failing");
  CHECK(p[1].message == "2 failed attempts, retrying");
  CHECK(release_problems({helmchart("x", {{"conditions", {{{"type", "Failed"}, {"status", "False"}}}}})}, {})
            .empty());
}

TEST_CASE(
    "release health: status asks the API for the agent's HelmCharts and their Jobs and prints the failure",
    "[app][status]") {
  std::vector<std::string> urls;
  KubeTransport t =
      [&](const binder::common::http::Request& r) -> binder::common::Result<binder::common::http::Response> {
    urls.push_back(r.method + " " + r.url);
    binder::common::http::Response resp;
    resp.status = 200;
    if (r.url.find("/helmcharts") != std::string::npos) {
      resp.body =
          json({{"kind", "HelmChartList"}, {"metadata", json::object()}, {"items", {failed_chart("harbor")}}})
              .dump();
    } else {
      resp.body = json({{"kind", "JobList"}, {"metadata", json::object()}, {"items", json::array()}}).dump();
    }
    return resp;
  };
  KubeClient kube(KubeConfig{"https://127.0.0.1:6443", "", "", "", "tok"}, t);
  json r = releases_json(query_release_problems(kube));
  REQUIRE(urls.size() == 2);
  CHECK(urls[0].starts_with(
      "GET https://127.0.0.1:6443/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts"));
  CHECK(urls[0].find("labelSelector=app.kubernetes.io%2Fmanaged-by%3Dbinder-firstboot") != std::string::npos);
  CHECK(urls[1].starts_with("GET https://127.0.0.1:6443/apis/batch/v1/namespaces/kube-system/jobs"));
  CHECK(r["checked"] == true);
  REQUIRE(r["problems"].size() == 1);

  json s = {{"member", nullptr},     {"public_ip", ""},        {"complete", true}, {"current_step", nullptr},
            {"last_error", nullptr}, {"steps", json::array()}, {"summary", ""},    {"releases", r}};
  std::string text = format_status(s);
  CHECK(text.find(
            "release failed: HelmChart kube-system/harbor (job helm-install-harbor): Error: Job failed") !=
        std::string::npos);
}

TEST_CASE("release health: an unreachable API is reported as not checked, no kubeconfig as not asked",
          "[app][status]") {
  KubeTransport t =
      [](const binder::common::http::Request&) -> binder::common::Result<binder::common::http::Response> {
    return binder::common::fail(binder::common::Errc::network, "connection refused");
  };
  KubeClient kube(KubeConfig{"https://127.0.0.1:6443", "", "", "", "tok"}, t);
  json r = releases_json(query_release_problems(kube));
  CHECK(r["checked"] == false);
  CHECK(r["error"].get<std::string>().find("connection refused") != std::string::npos);
  json s = {{"member", nullptr},     {"public_ip", ""},        {"complete", false}, {"current_step", nullptr},
            {"last_error", nullptr}, {"steps", json::array()}, {"summary", ""},     {"releases", r}};
  CHECK(format_status(s).find("releases: not checked (") != std::string::npos);
  CHECK(collect_release_health("/nonexistent-root-for-test").is_null());
}
