// The Kubernetes client against H7's fake API server on 127.0.0.1 (TLS with a test CA, client
// certificate from the kubeconfig), and Debian's kubectl against the same fake, plus the
// k3s:ready step end to end.
#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "firstboot/k3s/k3s_files.hpp"
#include "firstboot/k3s/k3s_steps.hpp"
#include "firstboot/k3s/kube_client.hpp"
#include "support/fake_server.hpp"
#include "support/firstboot/test_seams.hpp"
#include "support/skip.hpp"

using namespace binder::firstboot;
using nlohmann::json;
namespace fs = binder::common::fs;

namespace {

binder::common::http::Options quick() {
  binder::common::http::Options o;
  o.request_timeout = std::chrono::seconds(5);
  o.connect_timeout = std::chrono::seconds(2);
  o.max_attempts = 2;
  o.backoff_base = std::chrono::milliseconds(50);
  return o;
}

bool have_kubectl() { return binder::common::exec::find_program("kubectl").has_value(); }

}  // namespace

TEST_CASE("kube client: readiness, apply and lists against the fake API server", "[kube][integration]") {
  auto pki = binder::test::TestPki::create();
  binder::test::FakeServer fake(binder::test::FakeKind::kube, pki,
                                {.extra_args = {"--node-ready-delay", "0"}});
  auto cfg = load_kubeconfig(fake.write_kubeconfig());
  REQUIRE(cfg);
  CHECK(!cfg->client_cert_pem.empty());
  KubeClient kube(*cfg, quick());

  CHECK(kube.api_ready() == true);
  testing::FakeClock clock;
  REQUIRE(KubeClient::wait_until(clock, "node", std::chrono::seconds(30), std::chrono::seconds(1),
                                 [&] { return kube.node_ready(binder::test::k_fake_node_name); }));
  CHECK(kube.node_ready("no-such-node") == false);

  json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "binder-test"}}}};
  CHECK(kube.apply(ns) == ApplyResult::created);
  CHECK(kube.apply(ns) == ApplyResult::unchanged);

  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "creds"}, {"namespace", "binder-test"}, {"labels", {{"app", "x"}}}}},
                 {"type", "Opaque"},
                 {"stringData", {{"password", "s3cr3t-value"}}}};
  CHECK(kube.apply(secret) == ApplyResult::created);
  CHECK(kube.apply(secret) == ApplyResult::unchanged);
  secret["stringData"]["password"] = "another-value";
  CHECK(kube.apply(secret) == ApplyResult::updated);
  auto live = kube.get(ObjectRef::of(secret));
  REQUIRE(live);
  REQUIRE(*live);
  CHECK((**live)["data"]["password"] == "YW5vdGhlci12YWx1ZQ==");

  auto created = kube.create(secret);
  REQUIRE(!created);
  CHECK(created.error().code == Errc::precondition);  // 409 AlreadyExists

  json hc = {{"apiVersion", "helm.cattle.io/v1"},
             {"kind", "HelmChart"},
             {"metadata", {{"name", "demo"}, {"namespace", "kube-system"}}},
             {"spec",
              {{"chart", "demo"},
               {"repo", "https://charts.example.org"},
               {"version", "1.0.0"},
               {"targetNamespace", "binder-test"},
               {"valuesContent", "a: 1\n"}}}};
  CHECK(kube.apply(hc) == ApplyResult::created);
  CHECK(kube.apply(hc) == ApplyResult::unchanged);
  auto items = kube.list("v1", "Secret", "binder-test", "app=x");
  REQUIRE(items);
  CHECK(items->size() == 1);
  SystemClock wall;  // the fake marks deployments ready after real seconds
  REQUIRE(KubeClient::wait_until(wall, "deployments", std::chrono::seconds(60),
                                 std::chrono::milliseconds(500), [&]() -> binder::common::Result<bool> {
                                   TRY_ASSIGN(auto ds, kube.deployments("binder-test"));
                                   if (ds.empty()) {
                                     return false;
                                   }
                                   for (const auto& d : ds) {
                                     if (!d.ready) {
                                       return false;
                                     }
                                   }
                                   return true;
                                 }));
  CHECK(kube.remove(ObjectRef::of(secret)) == true);
  CHECK(kube.remove(ObjectRef::of(secret)) == false);
  CHECK(fake.violations().empty());

  if (have_kubectl()) {
    std::string out, err;
    int rc = binder::test::run_capture({"kubectl", "--kubeconfig", fake.write_kubeconfig().string(), "get",
                                        "namespace", "binder-test", "-o", "json"},
                                       &out, &err);
    INFO(err);
    REQUIRE(rc == 0);
    CHECK(json::parse(out)["metadata"]["name"] == "binder-test");
    rc = binder::test::run_capture(
        {"kubectl", "--kubeconfig", fake.write_kubeconfig().string(), "get", "helmchart", "demo", "-n",
         "kube-system", "-o", "jsonpath={.spec.version}"},
        &out, &err);
    INFO(err);
    CHECK(rc == 0);
    CHECK(out == "1.0.0");
  } else {
    BINDER_SKIP_MISSING_TOOL("kubectl");
  }
}

TEST_CASE("kube client: a wrong CA is refused, not retried into success", "[kube][integration]") {
  auto pki = binder::test::TestPki::create();
  auto other = binder::test::TestPki::create();
  binder::test::FakeServer fake(binder::test::FakeKind::kube, pki);
  auto cfg = load_kubeconfig(fake.write_kubeconfig());
  REQUIRE(cfg);
  cfg->ca_pem = *fs::read_file(other.ca_cert());
  KubeClient kube(*cfg, quick());
  auto r = kube.api_ready();
  REQUIRE(!r);
  CHECK(r.error().message.find("TLS certificate verification failed") != std::string::npos);
}

TEST_CASE("k3s:ready waits for the API and the node through the kubeconfig", "[kube][integration]") {
  auto pki = binder::test::TestPki::create();
  binder::test::FakeServer fake(binder::test::FakeKind::kube, pki,
                                {.extra_args = {"--node-name", "example", "--node-ready-delay", "2"}});
  Member m;
  m.name = "example";
  m.domain = "mybinder.org";
  testing::TestRoot t(m);
  REQUIRE(
      fs::write_file_atomic(t.path(k3s::k_kubeconfig_path), *fs::read_file(fake.write_kubeconfig()), 0600));
  k3s::ReadyOptions o;
  o.timeout = std::chrono::seconds(30);
  o.interval = std::chrono::milliseconds(500);
  o.request_timeout = std::chrono::seconds(5);
  // A real clock: the fake marks the node Ready after 2 s of wall time.
  SystemClock clock;
  Env env(t.dir.path(), m, {}, t.runner, clock, t.outputs);
  auto step = k3s::make_ready_step(o);
  auto r = step->apply(env);
  INFO((r ? "" : r.error().to_string()));
  REQUIRE(r);
  CHECK(*r == Outcome::unchanged);

  SECTION("a node that never becomes Ready is a temporary failure") {
    Member other = m;
    other.name = "missing";
    Env env2(t.dir.path(), other, {}, t.runner, clock, t.outputs);
    o.timeout = std::chrono::seconds(2);
    auto r2 = k3s::make_ready_step(o)->apply(env2);
    REQUIRE(!r2);
    CHECK(r2.error().code == Errc::temporary);
    CHECK(r2.error().message.find("node 'missing' Ready") != std::string::npos);
  }
}
