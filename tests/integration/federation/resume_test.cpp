// Crash/resume and faults: the agent is "killed" at every durable write of a run (fault injection
// on journal appends and export writes, i.e. at every step boundary and inside steps), then run
// again; the result has no duplicate record, project or robot, and keeps the secrets it had
// already journaled. Injected 429/500/slow/dropped answers are retried; a persistent failure is
// exit 75 with the step and cause in the journal; a wrong CA is refused.
#include "common/log.hpp"
#include "integration/federation/fixture.hpp"

using namespace binder::federation_test;
namespace fs = binder::common::fs;

namespace {

std::map<std::string, std::string> journaled_secrets(const std::filesystem::path& root) {
  fb::SystemClock clock;
  auto journal = *fb::Journal::open(root / "var/lib/binder-firstboot/journal", clock);
  std::map<std::string, std::string> out;
  for (const auto& rec : journal.records()) {
    for (const auto& [k, v] : rec.outputs) {
      if (k.starts_with("secrets.")) {
        if (out.contains(k))
          CHECK(out[k] == v);  // never recorded twice with another value
        out[k] = v;
      }
    }
  }
  return out;
}

void check_converged(const Fakes& fakes, const std::map<std::string, std::string>& secrets) {
  auto cf = fakes.cloudflare.state()["zones"][0]["records"];
  CHECK(cf.size() == 2);
  auto h = fakes.harbor.state();
  CHECK(h["projects"].size() == 1);
  CHECK(h["retentions"].size() == 1);
  REQUIRE(h["gc_schedule"].is_object());
  CHECK(h["gc_schedule"]["schedule"]["cron"] == "0 0 7 * * 0");
  REQUIRE(h["robots"].size() == 2);
  for (const auto& [id, robot] : h["robots"].items()) {
    std::string key = robot["name"].get<std::string>().ends_with("-builder")
                          ? "secrets.harbor-builder-robot-secret"
                          : "secrets.harbor-puller-robot-secret";
    REQUIRE(secrets.contains(key));
    CHECK(robot["secret"] == secrets.at(key));
  }
  fakes.check_no_violations();
}

}  // namespace

TEST_CASE("federation: killed at every write, the rerun converges without duplicates", "[federation][slow]") {
  Fakes fakes;
  auto options = fakes.options();
  int total = 0;
  {
    auto root = make_root(fakes);
    fs::inject_write_fault(0);
    Run run(root.path(), fakes, test_member(), options);
    REQUIRE(run.run());
    total = fs::fault_points_passed();
  }
  REQUIRE(total > 20);
  for (int n = 1; n <= total; ++n) {
    INFO("fault at write " << n << " of " << total);
    fakes.reset();
    auto root = make_root(fakes);
    fs::inject_write_fault(n);
    {
      Run crashed(root.path(), fakes, test_member(), options);
      auto r = crashed.run();
      CHECK_FALSE(r);
    }
    fs::inject_write_fault(0);
    auto before = journaled_secrets(root.path());
    {
      Run rerun(root.path(), fakes, test_member(), options);
      auto r = rerun.run();
      INFO((r ? std::string("ok") : r.error().to_string()));
      REQUIRE(r);
    }
    auto after = journaled_secrets(root.path());
    for (const auto& [k, v] : before) {
      INFO("secret " << k);
      CHECK(after[k] == v);
    }
    check_converged(fakes, after);
  }
}

TEST_CASE("federation: 429 with Retry-After, 500, slow and dropped answers are retried", "[federation]") {
  Fakes fakes;
  auto root = make_root(fakes);
  fakes.cloudflare.inject_fault({{"path", "/zones$"}, {"status", 500}, {"count", 2}});
  fakes.cloudflare.inject_fault(
      {{"path", "/dns_records"}, {"status", 429}, {"retry_after", 1}, {"count", 1}});
  fakes.harbor.inject_fault({{"path", "/projects"}, {"drop", true}, {"count", 1}});
  fakes.harbor.inject_fault({{"path", "/robots"}, {"delay_ms", 300}, {"count", 2}});
  fakes.harbor.inject_fault({{"path", "/retentions"}, {"status", 503}, {"count", 1}});
  fakes.kube.inject_fault({{"path", "helmcharts"}, {"status", 500}, {"count", 1}});
  Run run(root.path(), fakes, test_member(), fakes.options());
  auto r = run.run();
  INFO((r ? std::string("ok") : r.error().to_string()));
  REQUIRE(r);
  check_converged(fakes, journaled_secrets(root.path()));
}

TEST_CASE("federation: a persistent failure is exit 75 with the step and cause journaled", "[federation]") {
  Fakes fakes;
  auto root = make_root(fakes);
  fakes.cloudflare.inject_fault({{"path", "/zones"}, {"status", 503}, {"count", -1}});
  {
    Run run(root.path(), fakes, test_member(), fakes.options());
    auto r = run.run();
    REQUIRE_FALSE(r);
    CHECK(binder::common::exit_code_for(r.error()) == 75);
    CHECK_THAT(r.error().to_string(), Catch::Contains("step 'dns:records'"));
    auto last = run.journal.last_state("dns:records");
    REQUIRE(last);
    CHECK(last->event == fb::JournalEvent::failed);
    CHECK_THAT(last->detail, Catch::Contains("HTTP 503"));
  }
  // Harbor never becomes healthy: the wait ends in a temporary failure naming Harbor.
  fakes.cloudflare.clear_faults();
  fakes.harbor.configure({{"health_delay", 3600}});
  auto options = fakes.options();
  options.harbor_timeout = 1s;
  {
    Run run(root.path(), fakes, test_member(), options);
    auto r = run.run();
    REQUIRE_FALSE(r);
    CHECK(binder::common::exit_code_for(r.error()) == 75);
    CHECK_THAT(r.error().to_string(), Catch::Contains("step 'harbor:api'"));
    CHECK_THAT(r.error().to_string(), Catch::Contains("to report healthy"));
  }
  // Once the cause is gone, the next boot resumes and finishes.
  fakes.harbor.configure({{"health_delay", 0}});
  Run run(root.path(), fakes, test_member(), fakes.options());
  auto r = run.run();
  INFO((r ? std::string("ok") : r.error().to_string()));
  REQUIRE(r);
  CHECK(r->skipped == 5);  // dns, secrets, s3, cert-manager, mybinder:chart
  check_converged(fakes, journaled_secrets(root.path()));
}

TEST_CASE("federation: a server certificate from an unknown CA is refused", "[federation]") {
  Fakes fakes;
  auto root = make_root(fakes);
  auto other = test::TestPki::create();
  auto options = fakes.options();
  options.http.ca_file = other.ca_cert();
  Run run(root.path(), fakes, test_member(), options);
  auto r = run.run();
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().to_string(), Catch::Contains("TLS certificate verification failed"));
  CHECK(fakes.cloudflare.state()["zones"][0]["records"].empty());
}
