// The readiness and in-rotation steps against the fakes on 127.0.0.1 (member_web.py for the
// member's and the federation's sites, harbor.py for the registry), reached through their public
// names with connect_to rules and the test CA: the good path, a certificate for another name, a
// self-signed one, 503, versions that differ from the prime's, a test launch, and /active_hosts
// with and without the member.
#include "firstboot/federation/readiness.hpp"

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "common/http.hpp"
#include "support/fake_server.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
using namespace std::chrono_literals;
namespace fed = binder::firstboot::federation;
namespace test = binder::test;
using nlohmann::json;

namespace {

const std::vector<std::string> k_names = {"DNS:example.mybinder.org", "DNS:*.example.mybinder.org",
                                          "DNS:2i2c.mybinder.org", "DNS:mybinder.org"};

Member member() {
  Member m;
  m.name = "example";
  m.domain = "mybinder.org";
  m.mode = Mode::federation;
  RegistryConfig reg;
  reg.kind = RegistryKind::harbor_s3;
  reg.host = "registry.example.mybinder.org";
  m.registry = reg;
  m.readiness.timeout_minutes = 1;
  m.readiness.rotation_timeout_minutes = 2;
  return m;
}

// The member's sites on `web` (with `pki`'s server certificate), its registry on `harbor`.
struct World {
  explicit World(test::TestPki p) : pki(std::move(p)) {}
  test::TestPki pki;
  test::FakeServer web{test::FakeKind::web, pki};
  test::FakeServer harbor{test::FakeKind::harbor, pki};

  fed::FederationOptions options(const std::filesystem::path& ca) const {
    fed::FederationOptions o;
    o.http.ca_file = ca;
    o.poll_interval = 5s;  // FakeClock: no real waiting
    for (const char* host :
         {"example.mybinder.org", "hub.example.mybinder.org", "2i2c.mybinder.org", "mybinder.org"}) {
      o.http.connect_to.push_back({host, 443, "127.0.0.1", web.port()});
    }
    o.http.connect_to.push_back({"registry.example.mybinder.org", 443, "127.0.0.1", harbor.port()});
    return o;
  }
  fed::FederationOptions options() const { return options(pki.ca_cert()); }
};

Result<Outcome> run_step(std::unique_ptr<Step> step, testing::TestRoot& root) {
  root.env->current_step = std::string(step->id());
  return step->apply(*root.env);
}

// Replaces the PKI's server certificate by a self-signed one for the member's names.
void make_self_signed(const test::TestPki& pki) {
  std::string out, err;
  int rc = test::run_capture(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
       "2", "-subj", "/CN=example.mybinder.org", "-addext",
       "subjectAltName=DNS:example.mybinder.org,DNS:*.example.mybinder.org,DNS:2i2c.mybinder.org", "-keyout",
       pki.server_key().string(), "-out", pki.server_cert().string()},
      &out, &err);
  REQUIRE(rc == 0);
}

}  // namespace

TEST_CASE("readiness: every check passes through the public names with a valid certificate") {
  World w(test::TestPki::create(k_names));
  testing::TestRoot root(member());
  auto r = run_step(fed::make_readiness_step(w.options()), root);
  INFO((r ? "" : r.error().to_string()));
  REQUIRE(r);
  CHECK(*r == Outcome::unchanged);
  CHECK(root.env->output(fed::k_ready_at_key).has_value());
  CHECK(root.clock.t == testing::FakeClock{}.t);  // no waiting
  // The sites were asked under their own names (the fake routes by Host and records strays).
  CHECK(w.web.violations().empty());
  std::vector<std::string> paths;
  for (const auto& q : w.web.requests())
    paths.push_back(q["path"].get<std::string>());
  CHECK(paths == std::vector<std::string>{"/health", "/hub/health", "/versions", "/versions"});
  CHECK(w.harbor.requests()[0]["path"] == "/api/v2.0/ping");
}

TEST_CASE("readiness: a certificate for another name fails with that cause after the deadline") {
  World w(test::TestPki::create());  // 127.0.0.1, localhost, 10.0.2.2 only
  testing::TestRoot root(member());
  auto r = run_step(fed::make_readiness_step(w.options()), root);
  REQUIRE(!r);
  CHECK(r.error().code == Errc::temporary);
  CHECK(r.error().message ==
        "https://example.mybinder.org/health: certificate not valid for example.mybinder.org "
        "(hostname mismatch) (still failing after 1 min)");
  CHECK(root.clock.t - testing::FakeClock{}.t >= 55s);  // retried until the deadline
  CHECK(!root.env->output(fed::k_ready_at_key));
}

TEST_CASE("readiness: a self-signed certificate is not trusted") {
  World w(test::TestPki::create(k_names));
  make_self_signed(w.pki);
  test::FakeServer web{test::FakeKind::web, w.pki};  // serves the self-signed certificate
  testing::TestRoot root(member());
  auto o = w.options();
  for (auto& rule : o.http.connect_to) {
    if (rule.to_port == w.web.port())
      rule.to_port = web.port();
  }
  auto r = run_step(fed::make_readiness_step(o), root);
  REQUIRE(!r);
  CHECK_THAT(r.error().message,
             Catch::StartsWith("https://example.mybinder.org/health: certificate not trusted (self-signed"));
}

TEST_CASE("readiness: 503 from BinderHub's health until the deadline") {
  World w(test::TestPki::create(k_names));
  w.web.configure({{"health_status", 503}});
  testing::TestRoot root(member());
  auto r = run_step(fed::make_readiness_step(w.options()), root);
  REQUIRE(!r);
  CHECK(r.error().code == Errc::temporary);
  CHECK(r.error().message == "https://example.mybinder.org/health: HTTP 503 (still failing after 1 min)");
}

TEST_CASE("readiness: a 503 that heals within the deadline is ready") {
  World w(test::TestPki::create(k_names));
  w.web.inject_fault({{"path", "^/health$"}, {"status", 503}, {"count", 3}});
  testing::TestRoot root(member());
  auto r = run_step(fed::make_readiness_step(w.options()), root);
  INFO((r ? "" : r.error().to_string()));
  REQUIRE(r);
  CHECK(root.clock.t - testing::FakeClock{}.t == 15s);  // three rounds failed, 5 s apart
}

TEST_CASE("readiness: versions that differ from the prime's are a failure naming the difference") {
  World w(test::TestPki::create(k_names));
  w.web.configure(
      {{"versions",
        json{{"builder", "repo2docker 2025.10.0"}, {"binderhub", "1.0.0-0.dev.git.1.old"}}.dump()}});
  testing::TestRoot root(member());
  auto r = run_step(fed::make_readiness_step(w.options()), root);
  REQUIRE(!r);
  CHECK(r.error().code == Errc::precondition);
  CHECK(r.error().message ==
        "versions differ from prime https://2i2c.mybinder.org/versions: binderhub "
        "1.0.0-0.dev.git.1.old != 1.0.0-0.dev.git.3983.h383374de (still failing after 1 min)");
}

TEST_CASE("readiness: a standalone member compares no versions") {
  World w(test::TestPki::create(k_names));
  w.web.configure({{"versions", json{{"binderhub", "other"}}.dump()}});
  Member m = member();
  m.mode = Mode::standalone;
  testing::TestRoot root(m);
  auto r = run_step(fed::make_readiness_step(w.options()), root);
  REQUIRE(r);
  for (const auto& q : w.web.requests())
    CHECK(q["path"] != "/versions");
}

TEST_CASE("readiness: the optional test launch reads BinderHub's event stream") {
  World w(test::TestPki::create(k_names));
  Member m = member();
  m.readiness.test_launch = "gh/binder-examples/requirements/HEAD";
  {
    testing::TestRoot root(m);
    auto r = run_step(fed::make_readiness_step(w.options()), root);
    INFO((r ? "" : r.error().to_string()));
    REQUIRE(r);
    CHECK(w.web.requests().back()["path"] == "/build/gh/binder-examples/requirements/HEAD");
  }
  w.web.configure({{"launch", "failed"}});
  testing::TestRoot root(m);
  auto r = run_step(fed::make_readiness_step(w.options()), root);
  REQUIRE(!r);
  CHECK(r.error().code == Errc::precondition);
  CHECK(r.error().message ==
        "test launch of 'gh/binder-examples/requirements/HEAD' failed: Error: build failed");
}

TEST_CASE("in-rotation: listed by /active_hosts, and not listed within the bound is a warning") {
  World w(test::TestPki::create(k_names));
  {
    w.web.configure({{"active_hosts", "hetzner-2i2c,example"}});
    testing::TestRoot root(member());
    auto r = run_step(fed::make_in_rotation_step(w.options()), root);
    REQUIRE(r);
    CHECK_THAT(*root.env->output(fed::k_rotation_status_key),
               Catch::StartsWith("in rotation: listed by https://mybinder.org/active_hosts at "));
  }
  w.web.configure({{"active_hosts", "hetzner-2i2c,hetzner-gesis"}});
  testing::TestRoot root(member());
  auto r = run_step(fed::make_in_rotation_step(w.options()), root);
  REQUIRE(r);  // not a failure: the operators decide
  CHECK(*r == Outcome::unchanged);
  CHECK(*root.env->output(fed::k_rotation_status_key) ==
        "not in rotation after 2 min ('example' not listed by https://mybinder.org/active_hosts); the "
        "federation operators add members to the redirector");
  CHECK(root.clock.t - testing::FakeClock{}.t <= 2min);
  int gets = 0;
  for (const auto& q : w.web.requests())
    gets += q["path"] == "/active_hosts";
  CHECK(gets > 1);
}

TEST_CASE("readiness: active_hosts matches by cluster name or by the member's URL") {
  Member m = member();
  m.cluster_name = "example-ovh";
  CHECK(fed::listed_in_active_hosts(json::parse(R"({"active_hosts": {"example-ovh": {"url": "https://x"}}})"),
                                    m));
  CHECK(fed::listed_in_active_hosts(
      json::parse(R"({"active_hosts": {"ovh": {"url": "https://example.mybinder.org/"}}})"), m));
  CHECK(!fed::listed_in_active_hosts(
      json::parse(R"({"active_hosts": {"example": {"url": "https://other.org"}}})"), m));
  CHECK(!fed::listed_in_active_hosts(json::parse(R"({"hosts": {}})"), m));
}

TEST_CASE("readiness: the registry check follows registry.kind") {
  Member m = member();
  CHECK(fed::readiness_checks(m)[2].url == "https://registry.example.mybinder.org/api/v2.0/ping");
  m.registry = RegistryConfig{};
  m.registry->kind = RegistryKind::external;
  m.registry->url = "https://index.docker.io/v1/";
  CHECK(fed::readiness_checks(m)[2].url == "https://index.docker.io/v2/");
}

TEST_CASE("http: connect_to rules parse like curl's and pick the first match") {
  namespace http = binder::common::http;
  auto rules = http::parse_connect_to("a.test:443:127.0.0.1:8443,::10.0.2.2:").value();
  REQUIRE(rules.size() == 2);
  auto url = http::parse_url("https://a.test/health").value();
  auto to = http::connect_address(url, rules);
  CHECK(to.host == "127.0.0.1");
  CHECK(to.port == 8443);
  to = http::connect_address(http::parse_url("https://b.test:444/").value(), rules);
  CHECK(to.host == "10.0.2.2");
  CHECK(to.port == 444);
  CHECK(!http::parse_connect_to("a.test:443:127.0.0.1"));
  CHECK(!http::parse_connect_to("a.test:x:127.0.0.1:1"));
  CHECK(http::parse_connect_to("").value().empty());
}
