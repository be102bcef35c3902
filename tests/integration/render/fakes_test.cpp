// The fake vendor servers themselves: each accepts what the vendor schema allows, records a
// violation (and answers 400/422 like the vendor) for what it does not, keeps state, and injects
// faults. Requests are made with the curl CLI so these tests depend on nothing of ours but the
// launcher.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/fake_server.hpp"

using binder::test::FakeKind;
using binder::test::FakeServer;
using binder::test::TestPki;
using nlohmann::json;

namespace {

struct CurlResult {
  int status = 0;
  json body;
  std::string headers;
};

// One HTTPS request verified against the test CA; `extra` are more curl arguments.
CurlResult curl(const FakeServer& f, const std::string& method, const std::string& url,
                const std::vector<std::string>& extra, const std::string& body = {}) {
  std::vector<std::string> argv = {"curl", "-sS",  "-D", "-", "--cacert", f.ca_path().string(),
                                   "-X",   method, url};
  argv.insert(argv.end(), extra.begin(), extra.end());
  if (!body.empty()) {
    argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", "@-"});
  }
  std::string out, err;
  int rc = binder::test::run_capture(argv, &out, &err, body);
  INFO("curl stderr: " << err);
  REQUIRE(rc == 0);
  CurlResult r;
  auto end = out.find("\r\n\r\n");
  r.headers = out.substr(0, end);
  r.status = std::stoi(out.substr(9, 3));
  std::string payload = end == std::string::npos ? "" : out.substr(end + 4);
  r.body = json::parse(payload, nullptr, false);
  return r;
}

std::vector<std::string> bearer() { return {"-H", "Authorization: Bearer test-token"}; }
std::vector<std::string> admin() { return {"-u", "admin:Harbor12345"}; }

}  // namespace

TEST_CASE("fakes: cloudflare accepts a valid record and flags a malformed one", "[fakes]") {
  auto pki = TestPki::create();
  FakeServer cf(FakeKind::cloudflare, pki);
  auto zones = curl(cf, "GET", cf.api_base() + "/zones?name=mybinder.org", bearer());
  REQUIRE(zones.status == 200);
  std::string zid = zones.body["result"][0]["id"];
  std::string rec = R"({"type":"A","name":"x.mybinder.org","content":"203.0.113.7","ttl":1,"proxied":false})";
  auto ok = curl(cf, "POST", cf.api_base() + "/zones/" + zid + "/dns_records", bearer(), rec);
  CHECK(ok.status == 200);
  CHECK(ok.body["result"]["name"] == "x.mybinder.org");
  CHECK_FALSE(ok.body["result"].contains("zone_id"));
  CHECK(cf.violations().empty());

  SECTION("POST is not an upsert: an identical record is 81058") {
    auto dup = curl(cf, "POST", cf.api_base() + "/zones/" + zid + "/dns_records", bearer(), rec);
    CHECK(dup.status == 400);
    CHECK(dup.body["errors"][0]["code"] == 81058);
    CHECK(cf.state()["zones"][0]["records"].size() == 1);
  }
  SECTION("a body against the schema is a violation and a 400") {
    auto bad = curl(cf, "POST", cf.api_base() + "/zones/" + zid + "/dns_records", bearer(),
                    R"({"type":"A","name":"y.mybinder.org","content":"not-an-ip","ttl":1})");
    CHECK(bad.status == 400);
    auto v = cf.violations();
    REQUIRE(v.size() == 1);
    CHECK(v[0]["message"].get<std::string>().find("ipv4") != std::string::npos);
  }
  SECTION("a request without the Bearer token is a violation") {
    auto noauth = curl(cf, "GET", cf.api_base() + "/zones", {});
    CHECK(noauth.status == 400);
    CHECK(cf.violations().size() == 1);
    auto wrong = curl(cf, "GET", cf.api_base() + "/zones", {"-H", "Authorization: Bearer nope"});
    CHECK(wrong.status == 403);
  }
  SECTION("an injected 429 carries Retry-After, then the call succeeds") {
    cf.inject_fault({{"path", "/dns_records$"}, {"status", 429}, {"retry_after", 2}});
    auto limited = curl(cf, "GET", cf.api_base() + "/zones/" + zid + "/dns_records", bearer());
    CHECK(limited.status == 429);
    CHECK(limited.headers.find("Retry-After: 2") != std::string::npos);
    CHECK(curl(cf, "GET", cf.api_base() + "/zones/" + zid + "/dns_records", bearer()).status == 200);
    CHECK(cf.requests().size() == 4);
  }
}

TEST_CASE("fakes: harbor keeps projects and robots and flags schema violations", "[fakes]") {
  auto pki = TestPki::create();
  FakeServer hb(FakeKind::harbor, pki);
  CHECK(curl(hb, "GET", hb.api_base() + "/health", {}).body["status"] == "healthy");
  auto created =
      curl(hb, "POST", hb.api_base() + "/projects", admin(),
           R"({"project_name":"mybinder-builds","storage_limit":-1,"metadata":{"public":"false"}})");
  CHECK(created.status == 201);
  CHECK(created.headers.find("Location: /api/v2.0/projects/1") != std::string::npos);
  CHECK(curl(hb, "HEAD", hb.api_base() + "/projects?project_name=mybinder-builds", admin()).status == 200);
  auto robot = curl(hb, "POST", hb.api_base() + "/robots", admin(),
                    R"({"name":"builder","level":"project","duration":-1,"disable":false,
                        "permissions":[{"kind":"project","namespace":"mybinder-builds",
                        "access":[{"resource":"repository","action":"push"}]}]})");
  CHECK(robot.status == 201);
  CHECK(robot.body["name"] == "robot$mybinder-builds+builder");
  CHECK(hb.violations().empty());

  // metadata values are strings in Harbor's schema
  auto bad = curl(hb, "POST", hb.api_base() + "/projects", admin(),
                  R"({"project_name":"other","metadata":{"public":false}})");
  CHECK(bad.status == 400);
  CHECK(bad.body["errors"][0]["code"] == "BAD_REQUEST");
  CHECK(hb.violations().size() == 1);
  CHECK(curl(hb, "GET", hb.api_base() + "/projects", {}).status == 401);
}

TEST_CASE("fakes: harbor reports unhealthy until its health delay has passed", "[fakes]") {
  auto pki = TestPki::create();
  FakeServer hb(FakeKind::harbor, pki, {.extra_args = {"--health-delay", "30"}});
  CHECK(curl(hb, "GET", hb.api_base() + "/health", {}).body["status"] == "unhealthy");
  hb.configure({{"health_delay", 0}});
  CHECK(curl(hb, "GET", hb.api_base() + "/health", {}).body["status"] == "healthy");
}

TEST_CASE("fakes: kube validates Secret bodies and materializes a HelmChart's deployments", "[fakes]") {
  auto pki = TestPki::create();
  FakeServer kube(FakeKind::kube, pki, {.extra_args = {"--helm-delay", "0", "--ready-delay", "0"}});
  std::vector<std::string> cert = {"--cert", pki.client_cert().string(), "--key", pki.client_key().string()};
  CHECK(curl(kube, "GET", kube.url() + "/api/v1/namespaces", {}).status == 401);
  auto bad =
      curl(kube, "POST", kube.url() + "/api/v1/namespaces/default/secrets", cert,
           R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"not base64!"}})");
  CHECK(bad.status == 422);
  CHECK(kube.violations().size() == 1);
  auto hc = json::parse(R"({"apiVersion":"helm.cattle.io/v1","kind":"HelmChart",
      "metadata":{"name":"binderhub","namespace":"kube-system"},
      "spec":{"chart":"binderhub","repo":"https://jupyterhub.github.io/helm-chart",
              "targetNamespace":"example","createNamespace":true,"valuesContent":"{}"}})");
  CHECK(curl(kube, "POST", kube.url() + "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts", cert,
             hc.dump())
            .status == 201);
  CHECK(curl(kube, "POST", kube.url() + "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts", cert,
             hc.dump())
            .status == 409);
  auto deps = curl(kube, "GET", kube.url() + "/apis/apps/v1/namespaces/example/deployments", cert);
  REQUIRE(deps.status == 200);
  std::vector<std::string> names;
  for (const auto& d : deps.body["items"]) {
    names.push_back(d["metadata"]["name"]);
  }
  // created (not ready) first, ready on the next look because ready-delay is 0
  CHECK(names == std::vector<std::string>{"binder", "hub", "proxy"});
  auto hub = curl(kube, "GET", kube.url() + "/apis/apps/v1/namespaces/example/deployments/hub", cert);
  CHECK(hub.body["status"]["readyReplicas"] == 1);
  CHECK(kube.violations().size() == 1);
}

TEST_CASE("fakes: kube installs a HelmChart only once its values Secret exists", "[fakes]") {
  auto pki = TestPki::create();
  FakeServer kube(FakeKind::kube, pki, {.extra_args = {"--helm-delay", "0", "--ready-delay", "0"}});
  std::vector<std::string> cert = {"--cert", pki.client_cert().string(), "--key", pki.client_key().string()};
  auto hc = json::parse(R"({"apiVersion":"helm.cattle.io/v1","kind":"HelmChart",
      "metadata":{"name":"harbor","namespace":"kube-system"},
      "spec":{"chart":"harbor","targetNamespace":"x","createNamespace":true,
              "valuesSecrets":[{"name":"harbor-values","keys":["values.yaml"]}]}})");
  REQUIRE(curl(kube, "POST", kube.url() + "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts", cert,
               hc.dump())
              .status == 201);
  auto job =
      curl(kube, "GET", kube.url() + "/apis/batch/v1/namespaces/kube-system/jobs/helm-install-harbor", cert);
  CHECK(job.body["status"]["failed"] == 1);
  CHECK(curl(kube, "GET", kube.url() + "/apis/apps/v1/namespaces/x/deployments", cert).body["items"].empty());
  REQUIRE(curl(kube, "POST", kube.url() + "/api/v1/namespaces/kube-system/secrets", cert,
               R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"harbor-values"},
                   "stringData":{"values.yaml":"a: 1\n"}})")
              .status == 201);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  job =
      curl(kube, "GET", kube.url() + "/apis/batch/v1/namespaces/kube-system/jobs/helm-install-harbor", cert);
  CHECK(job.body["status"]["succeeded"] == 1);
  CHECK(curl(kube, "GET", kube.url() + "/apis/apps/v1/namespaces/x/deployments", cert).body["items"].size() ==
        4);
  CHECK(kube.violations().empty());
}
