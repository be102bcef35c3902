// Phone home against the fake receiver (tests/support/fakes/status_receiver.py, which validates
// each document against firstboot/status.schema.json): documents valid, retries after 500s, a
// timeout, post() never blocking, no secret in any document, a dead receiver never failing the run.
#include "firstboot/app/phone_home.hpp"

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "firstboot/app/agent.hpp"
#include "firstboot/app/status.hpp"
#include "support/fake_server.hpp"
#include "support/firstboot/test_member.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
namespace fs = binder::common::fs;
namespace test = binder::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_token = "cfTOKEN-phonehome-0123456789";
constexpr const char* k_phone_home_github = "ghp_PHONEHOMEsecretabcdef";

binder::common::http::Options fast_http(const test::TestPki& pki) {
  auto o = app::default_phone_home_http();
  o.ca_file = pki.ca_cert();
  o.backoff_base = 20ms;
  o.backoff_max = 100ms;
  o.request_timeout = 2s;
  return o;
}

// A valid status document of an empty root.
json empty_status() {
  auto dir = *fs::TempDir::create("phone-home");
  return *app::collect_status(dir.path());
}

}  // namespace

TEST_CASE("phone home: retries after 500s, then the document arrives valid", "[phone-home]") {
  auto pki = test::TestPki::create();
  test::FakeServer receiver(test::FakeKind::status, pki);
  receiver.inject_fault({{"path", "."}, {"status", 500}, {"count", 2}});
  app::PhoneHome ph(receiver.api_base(), fast_http(pki));
  ph.post(empty_status());
  REQUIRE(ph.flush(20s));
  CHECK(ph.counts().delivered == 1);
  CHECK(ph.counts().failed == 0);
  auto requests = receiver.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0]["status"] == 500);
  CHECK(requests[1]["status"] == 500);
  CHECK(requests[2]["status"] == 200);
  CHECK(receiver.violations().empty());
  auto docs = receiver.state()["documents"];
  REQUIRE(docs.size() == 1);  // the faulted attempts never reached the receiver's handler
  CHECK(docs[0]["document"]["status_version"] == 1);
  CHECK(docs[0]["user_agent"] == "binder-firstboot");
}

TEST_CASE("phone home: a receiver that never answers in time is given up, post() never waits",
          "[phone-home]") {
  auto pki = test::TestPki::create();
  test::FakeServer receiver(test::FakeKind::status, pki);
  receiver.inject_fault({{"path", "."}, {"delay_ms", 3000}, {"count", -1}});
  auto http = fast_http(pki);
  http.request_timeout = 500ms;
  http.max_attempts = 2;
  app::PhoneHome ph(receiver.api_base(), http);
  auto t0 = std::chrono::steady_clock::now();
  ph.post(empty_status());
  ph.post(empty_status());  // replaces the first one if it was not taken yet
  ph.post(empty_status());
  CHECK(std::chrono::steady_clock::now() - t0 < 200ms);
  REQUIRE(ph.flush(30s));
  auto c = ph.counts();
  CHECK(c.delivered == 0);
  CHECK(c.failed >= 1);
  CHECK(c.failed + c.replaced == 3);
  CHECK(std::chrono::steady_clock::now() - t0 < 20s);
}

TEST_CASE("phone home: the agent posts valid documents at each step change, never a secret",
          "[phone-home][agent]") {
  auto pki = test::TestPki::create();
  test::FakeServer receiver(test::FakeKind::status, pki);
  auto dir = *fs::TempDir::create("phone-home-agent");
  REQUIRE(fs::write_file_atomic(dir.path() / "etc/binder-image/member.yaml", testing::k_standalone_member));
  REQUIRE(fs::write_file_atomic(
      dir.path() / "etc/binder-image/member.d/20-secrets.yaml",
      fmt::format(
          "public_ip: auto\nstatus_url: \"{}\"\ndns: {{provider: cloudflare, zone: mybinder.org, api_token: {}}}\n"
          "binderhub: {{github_token: {}}}\n",
          receiver.api_base(), k_token, k_phone_home_github)));
  testing::FakeRunner runner;
  testing::FakeClock clock;
  // No public IP yet: the first run fails in 'facts' (exit 75), the second completes.
  runner.handler = [](const std::vector<std::string>& argv, const auto&) {
    return argv[0] == "ip" ? testing::fail_output(2, "Network is unreachable") : testing::ok_output();
  };
  app::AgentOptions o;
  o.root = dir.path();
  o.federation = false;
  o.report.phone_home_http = fast_http(pki);
  CHECK(app::run_agent(o, runner, clock) == 75);
  runner.handler = [](const std::vector<std::string>& argv, const auto&) {
    return argv[0] == "ip"
               ? testing::ok_output(
                     R"([{"dst":"1.1.1.1","gateway":"198.51.100.1","dev":"eth0","prefsrc":"198.51.100.15"}])")
               : testing::ok_output();
  };
  CHECK(app::run_agent(o, runner, clock) == 0);

  CHECK(receiver.violations().empty());
  auto docs = receiver.state()["documents"];
  REQUIRE(docs.size() >= 3);
  std::string all = docs.dump();
  CHECK(all.find(k_token) == std::string::npos);
  CHECK(all.find(k_phone_home_github) == std::string::npos);
  bool saw_failure = false;
  for (const auto& d : docs) {
    const json& doc = d["document"];
    CHECK(doc["member"]["fqdn"] == "example.mybinder.org");
    if (doc["last_error"].is_object() && doc["last_error"]["step"] == "facts") {
      saw_failure = true;
      CHECK(doc["last_error"]["message"].get<std::string>().find("no public IP") != std::string::npos);
    }
  }
  CHECK(saw_failure);
  CHECK(docs.back()["document"]["complete"] == true);
}

TEST_CASE("phone home: every string of a document is scrubbed of the secrets", "[phone-home]") {
  json doc = {{"last_error",
               {{"message", std::string("Cloudflare said no to ") + k_token + " and " + k_phone_home_github},
                {"hint", std::string("token ") + k_token}}},
              {"steps", json::array({{{"detail", std::string("x") + k_phone_home_github + "y"}}})},
              {std::string("key-") + k_token, 1},
              {"n", 7}};
  json out = app::scrub_document(doc, {k_token, k_phone_home_github, "abc"});
  std::string text = out.dump();
  CHECK(text.find(k_token) == std::string::npos);
  CHECK(text.find(k_phone_home_github) == std::string::npos);
  CHECK(out["last_error"]["message"] == "Cloudflare said no to <redacted> and <redacted>");
  CHECK(out["steps"][0]["detail"] == "x<redacted>y");
  CHECK(out["key-<redacted>"] == 1);
  CHECK(out["n"] == 7);
}

TEST_CASE("phone home: an unreachable receiver never fails the run", "[phone-home][agent]") {
  auto dir = *fs::TempDir::create("phone-home-dead");
  REQUIRE(fs::write_file_atomic(dir.path() / "etc/binder-image/member.yaml", testing::k_standalone_member));
  // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
  REQUIRE(fs::write_file_atomic(dir.path() / "etc/binder-image/member.d/20.yaml",
                                "status_url: \"https://127.0.0.1:9/status\"\n"));
  testing::FakeRunner runner;
  testing::FakeClock clock;
  app::AgentOptions o;
  o.root = dir.path();
  o.federation = false;
  o.report.phone_home_http.max_attempts = 2;
  o.report.phone_home_http.backoff_base = 10ms;
  o.report.flush_timeout = 10s;
  CHECK(app::run_agent(o, runner, clock) == 0);
  CHECK(std::filesystem::exists(dir.path() / "var/lib/binder-firstboot/complete"));
}
