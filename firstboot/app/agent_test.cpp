// The agent end to end against a temp root (host + k3s steps; the federation join is H6's and
// tested there): exit codes, journal, status, plan, crash/resume at every write.
#include "firstboot/app/agent.hpp"

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "firstboot/app/status.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/runner.hpp"
#include "support/firstboot/test_member.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
namespace fs = binder::common::fs;
using nlohmann::json;

namespace {

const char* k_member = testing::k_standalone_member;

struct Agent {
  fs::TempDir dir = *fs::TempDir::create("agent");
  testing::FakeRunner runner;
  testing::FakeClock clock;
  app::AgentOptions options;
  Agent() {
    options.root = dir.path();
    options.federation = false;
    (void)fs::write_file_atomic(dir.path() / "etc/binder-image/member.yaml", k_member);
  }
  int run() { return app::run_agent(options, runner, clock); }
  std::string read(const char* rel) {
    auto r = fs::read_file(dir.path() / rel);
    return r ? *r : "<missing>";
  }
  std::string state() {
    std::string s;
    for (const char* f :
         {"etc/hostname", "root/.ssh/authorized_keys", "etc/systemd/timesyncd.conf.d/70-binder-member.conf",
          "etc/sysctl.d/60-binder.conf", "etc/rancher/k3s/config.yaml",
          "var/lib/rancher/k3s/agent/etc/kubelet.conf.d/99-binder.conf",
          "var/lib/rancher/k3s/server/manifests/k3s-upgrade-plan.yaml",
          "var/lib/binder-firstboot/member.json", "var/lib/binder-firstboot/complete"}) {
      s += std::string(f) + ":\n" + read(f);
    }
    return s;
  }
};

}  // namespace

TEST_CASE("agent: a run completes, a second run changes nothing", "[agent]") {
  Agent a;
  CHECK(a.run() == 0);
  CHECK(a.read("etc/hostname") == "example\n");
  CHECK(std::filesystem::exists(a.dir.path() / "var/lib/binder-firstboot/complete"));
  auto first = a.state();
  CHECK(a.run() == 0);
  CHECK(a.state() == first);
  auto j = Journal::read(a.dir.path() / "var/lib/binder-firstboot/journal");
  REQUIRE(j);
  int begins = 0;
  for (const auto& r : j->records()) {
    begins += r.event == JournalEvent::begin ? 1 : 0;
  }
  CHECK(begins == 12);  // metadata + 11 steps, once each
  auto s = app::collect_status(a.dir.path());
  REQUIRE(s);
  CHECK((*s)["complete"] == true);
  CHECK((*s)["last_error"].is_null());
  CHECK((*s)["steps"][1]["id"] == "host:hostname");
  CHECK((*s)["steps"][1]["state"] == "done");
}

TEST_CASE("agent: invalid metadata exits 2, changes nothing, status names the problem", "[agent]") {
  Agent a;
  (void)fs::write_file_atomic(a.dir.path() / "etc/binder-image/member.d/50-typo.yaml", "node: {ntpp: [x]}\n");
  CHECK(a.run() == 2);
  CHECK(!std::filesystem::exists(a.dir.path() / "etc/hostname"));
  CHECK(!std::filesystem::exists(a.dir.path() / "var/lib/binder-firstboot/member.json"));
  auto s = app::collect_status(a.dir.path());
  REQUIRE(s);
  CHECK((*s)["last_error"]["step"] == "metadata");
  CHECK((*s)["last_error"]["message"].get<std::string>().find(
            "50-typo.yaml:1:8: error: binder_member.node.ntpp: unknown key 'ntpp', did you mean 'ntp'?") !=
        std::string::npos);
  CHECK(app::format_status(*s).find("state: failed") != std::string::npos);
  // Fixed metadata: the next run goes through.
  (void)fs::write_file_atomic(a.dir.path() / "etc/binder-image/member.d/50-typo.yaml", "node: {ntp: [x]}\n");
  CHECK(a.run() == 0);
  CHECK((*app::collect_status(a.dir.path()))["last_error"].is_null());
}

TEST_CASE("agent: no public IP yet is a temporary failure (exit 75)", "[agent]") {
  Agent a;
  (void)fs::write_file_atomic(a.dir.path() / "etc/binder-image/member.d/10.yaml", "public_ip: auto\n");
  a.runner.handler = [](const std::vector<std::string>& argv, const auto&) {
    return argv[0] == "ip" ? testing::fail_output(2, "Network is unreachable") : testing::ok_output();
  };
  CHECK(a.run() == 75);
  a.runner.handler = [](const std::vector<std::string>& argv, const auto&) {
    return argv[0] == "ip"
               ? testing::ok_output(
                     R"([{"dst":"1.1.1.1","gateway":"198.51.100.1","dev":"eth0","prefsrc":"198.51.100.15"}])")
               : testing::ok_output();
  };
  CHECK(a.run() == 0);
  CHECK(a.read("etc/rancher/k3s/config.yaml").find("\"198.51.100.15\"") != std::string::npos);
  CHECK(a.read("etc/rancher/k3s/config.yaml").find("node-external-ip") == std::string::npos);
  CHECK((*app::collect_status(a.dir.path()))["last_error"].is_null());  // the facts failure is resolved
}

TEST_CASE("agent: a private default-route address is never published (exit 2)", "[agent]") {
  Agent a;
  (void)fs::write_file_atomic(a.dir.path() / "etc/binder-image/member.d/10.yaml", "public_ip: auto\n");
  a.runner.handler = [](const std::vector<std::string>& argv, const auto&) {
    return argv[0] == "ip"
               ? testing::ok_output(
                     R"([{"dst":"1.1.1.1","gateway":"10.0.2.2","dev":"eth0","prefsrc":"10.0.2.15"}])")
               : testing::ok_output();
  };
  CHECK(a.run() == 2);
  CHECK(!std::filesystem::exists(a.dir.path() / "etc/rancher/k3s/config.yaml"));
  auto status = app::collect_status(a.dir.path());
  REQUIRE(status);
  CHECK_THAT((*status)["last_error"].dump(),
             Catch::Contains("default route") && Catch::Contains("10.0.2.15"));
}

TEST_CASE("agent: a changed metadata value re-applies only the affected steps", "[agent]") {
  Agent a;
  REQUIRE(a.run() == 0);
  (void)fs::remove_tree(a.dir.path() / "var/lib/binder-firstboot/complete");
  (void)fs::write_file_atomic(a.dir.path() / "etc/binder-image/member.d/10.yaml",
                              "node: {ntp: [other.ntp]}\n");
  REQUIRE(a.run() == 0);
  auto j = Journal::read(a.dir.path() / "var/lib/binder-firstboot/journal");
  std::map<std::string, int> begins;
  for (const auto& r : j->records()) {
    begins[r.step] += r.event == JournalEvent::begin ? 1 : 0;
  }
  CHECK(begins["host:ntp"] == 2);
  CHECK(begins["host:hostname"] == 1);
  CHECK(a.read("etc/systemd/timesyncd.conf.d/70-binder-member.conf").find("NTP=other.ntp") !=
        std::string::npos);
}

TEST_CASE("agent: crash at every write, rerun converges to the same state", "[agent][crash]") {
  std::string reference;
  int writes = 0;
  {
    Agent a;
    fs::inject_write_fault(0);
    int before = fs::fault_points_passed();
    REQUIRE(a.run() == 0);
    writes = fs::fault_points_passed() - before;
    reference = a.state();
  }
  REQUIRE(writes > 20);
  for (int n = 1; n <= writes; ++n) {
    INFO("fault at write " << n);
    Agent a;
    fs::inject_write_fault(n);
    int first = a.run();
    fs::inject_write_fault(0);
    CHECK(first != 0);
    CHECK(a.run() == 0);
    CHECK(a.state() == reference);
    CHECK(a.read("root/.ssh/authorized_keys") == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1 team\n");
  }
}

TEST_CASE("agent: plan lists every step and marks those done", "[agent]") {
  Agent a;
  std::vector<std::string> ids = app::firstboot_step_ids(NodeRole::server, Mode::federation, false);
  CHECK(ids.front() == "host:hostname");
  CHECK(ids.back() == "k3s:ready");
  CHECK(app::firstboot_step_ids(NodeRole::server, Mode::federation).size() > ids.size());
  CHECK(app::firstboot_step_ids(NodeRole::agent, Mode::federation).size() == ids.size());
}
