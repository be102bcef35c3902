// Rendered request bodies and manifests sent to the schema-checking fakes: the Cloudflare records,
// the Harbor project, robots and retention policy, and the values Secrets, HelmCharts and
// ClusterIssuer on the Kubernetes API are all accepted with no violation recorded.
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "firstboot/render/api_requests.hpp"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/helmchart.hpp"
#include "support/fake_server.hpp"
#include "support/firstboot/render_fixtures.hpp"

using namespace binder::firstboot::render;
using namespace binder::firstboot::render::fixtures;
using binder::test::FakeKind;
using binder::test::FakeServer;
using binder::test::TestPki;
using nlohmann::json;

namespace {

struct Reply {
  int status = 0;
  json body;
  std::string headers;
};

Reply send(const FakeServer& f, const std::string& method, const std::string& url,
           std::vector<std::string> auth, const json& body = nullptr) {
  std::vector<std::string> argv = {"curl", "-sS",  "-D", "-", "--cacert", f.ca_path().string(),
                                   "-X",   method, url};
  argv.insert(argv.end(), auth.begin(), auth.end());
  std::string data = body.is_null() ? "" : body.dump();
  if (!data.empty())
    argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", "@-"});
  std::string out, err;
  REQUIRE(binder::test::run_capture(argv, &out, &err, data) == 0);
  Reply r;
  auto end = out.find("\r\n\r\n");
  r.headers = out.substr(0, end);
  r.status = std::stoi(out.substr(9, 3));
  r.body = json::parse(end == std::string::npos ? "" : out.substr(end + 4), nullptr, false);
  return r;
}

}  // namespace

TEST_CASE("render+fakes: Cloudflare accepts the rendered DNS records", "[render][fakes]") {
  auto pki = TestPki::create();
  FakeServer cf(FakeKind::cloudflare, pki);
  auto m = example_member();
  std::vector<std::string> auth = {"-H", "Authorization: Bearer test-token"};
  auto zones = send(cf, "GET", cf.api_base() + "/zones?name=" + dns_zone(m), auth);
  std::string zid = zones.body["result"][0]["id"];
  for (const auto& rec : dns_records(m, "203.0.113.7")) {
    CHECK(send(cf, "POST", cf.api_base() + "/zones/" + zid + "/dns_records", auth, rec).status == 200);
  }
  auto found =
      send(cf, "GET",
           cf.api_base() + "/zones/" + zid + "/dns_records?type=A&name.exact=%2A.example.mybinder.org", auth);
  CHECK(found.body["result"].size() == 1);
  CHECK(cf.violations().empty());
}

TEST_CASE("render+fakes: Harbor accepts the rendered project, robots and retention policy",
          "[render][fakes]") {
  auto pki = TestPki::create();
  FakeServer hb(FakeKind::harbor, pki);
  auto m = example_member();
  std::vector<std::string> auth = {"-u", "admin:Harbor12345"};
  auto project = send(hb, "POST", hb.api_base() + "/projects", auth, harbor_project_request(m));
  REQUIRE(project.status == 201);
  auto builder = send(hb, "POST", hb.api_base() + "/robots", auth, harbor_builder_robot_request(m));
  CHECK(builder.status == 201);
  CHECK(builder.body["name"] == robot_full_name(m, builder_robot_name(m)));
  auto puller = send(hb, "POST", hb.api_base() + "/robots", auth, harbor_puller_robot_request(m));
  CHECK(puller.body["name"] == "robot$mybinder-builds+example-user-puller");
  auto got = send(hb, "GET", hb.api_base() + "/projects/mybinder-builds", auth);
  std::int64_t id = got.body["project_id"];
  CHECK(send(hb, "POST", hb.api_base() + "/retentions", auth, harbor_retention_request(id)).status == 201);
  auto quota =
      send(hb, "GET", hb.api_base() + "/quotas?reference=project&reference_id=" + std::to_string(id), auth);
  CHECK(quota.body[0]["hard"]["storage"] == 15000LL * 1073741824LL);
  CHECK(hb.violations().empty());
}

TEST_CASE("render+fakes: the Kubernetes API accepts the Secrets, HelmCharts and ClusterIssuer",
          "[render][fakes]") {
  auto pki = TestPki::create();
  FakeServer kube(FakeKind::kube, pki, {.extra_args = {"--helm-delay", "0", "--ready-delay", "0"}});
  std::vector<std::string> cert = {"--cert", pki.client_cert().string(), "--key", pki.client_key().string()};
  auto m = example_member();
  auto size = size_machine(machine(16, 4, true), m);
  std::vector<std::pair<ChartRef, ChartValues>> charts = {
      {cert_manager_chart(), cert_manager_values(m)},
      {traefik_chart(), traefik_values(m, size)},
      {harbor_chart(m), harbor_values(m, size, SecretsView{})},
      {binderhub_chart(m), binderhub_values(m, size, SecretsView{})}};
  const std::string ns_url = kube.url() + "/api/v1/namespaces/kube-system";
  for (const auto& [ref, values] : charts) {
    if (!ref.values_secret.empty()) {
      CHECK(send(kube, "POST", ns_url + "/secrets", cert, values_secret_manifest(ref, values.secret_values))
                .status == 201);
    }
    CHECK(send(kube, "POST", kube.url() + "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts", cert,
               helmchart_manifest(ref, values.values))
              .status == 201);
  }
  CHECK(send(kube, "POST", kube.url() + "/apis/cert-manager.io/v1/clusterissuers", cert, cluster_issuer(m))
            .status == 201);
  auto secret = send(kube, "GET", ns_url + "/secrets/harbor-values", cert);
  CHECK(secret.body["data"].contains("values.yaml"));
  CHECK_FALSE(secret.body.contains("stringData"));
  auto deps = send(kube, "GET", kube.url() + "/apis/apps/v1/namespaces/example/deployments", cert);
  CHECK(deps.body["items"].size() == 7);  // harbor x4, binder, hub, proxy
  CHECK(send(kube, "GET", kube.url() + "/apis/apps/v1/namespaces/traefik/deployments/binder-traefik", cert)
            .status == 200);
  CHECK(kube.violations().empty());
}
