// The agent after `binder-firstboot handover`: the federation steps (which would re-create the
// HelmCharts) are skipped; before it they run (and fail here, with no cluster).
#include <algorithm>

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "firstboot/app/agent.hpp"
#include "firstboot/app/status.hpp"
#include "firstboot/federation/handover.hpp"
#include "firstboot/federation/steps.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/runner.hpp"
#include "support/firstboot/test_member.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
namespace fs = binder::common::fs;

namespace {

const char* k_handover_member = testing::k_standalone_member;

}  // namespace

TEST_CASE("agent: after a handover the federation steps are not run again", "[agent][handover]") {
  fs::TempDir dir = *fs::TempDir::create("agent-handover");
  testing::FakeRunner runner;
  testing::FakeClock clock;
  app::AgentOptions options;
  options.root = dir.path();
  options.federation = true;
  REQUIRE(fs::write_file_atomic(dir.path() / "etc/binder-image/member.yaml", k_handover_member));
  auto journal_path = dir.path() / "var/lib/binder-firstboot/journal";

  // Without a handover the join runs: here it has no cluster, so the run fails.
  CHECK(app::run_agent(options, runner, clock) != 0);
  auto s = app::collect_status(dir.path());
  REQUIRE(s);
  CHECK((*s)["handover"].is_null());
  CHECK(!(*s)["last_error"].is_null());

  {
    auto j = Journal::open(journal_path, clock);
    REQUIRE(j);
    REQUIRE(j->append(federation::k_handover_step, "", JournalEvent::begin, {},
                      {{std::string(federation::k_handover_charts_key), "cert-manager,example"}}));
    REQUIRE(
        j->append(federation::k_handover_step, "", JournalEvent::done, "handed over: cert-manager,example"));
    CHECK(federation::handed_over(*j));
    CHECK(!federation::handover_time(*j).empty());
  }
  std::vector<std::string> join_ids;  // the steps after k3s:ready
  for (const auto& id : app::firstboot_step_ids(NodeRole::server, Mode::standalone)) {
    auto host_k3s = app::firstboot_step_ids(NodeRole::server, Mode::standalone, false);
    if (std::find(host_k3s.begin(), host_k3s.end(), id) == host_k3s.end())
      join_ids.push_back(id);
  }
  REQUIRE(join_ids.front() == "dns:records");
  auto federation_begins = [&] {
    auto j = Journal::read(journal_path);
    REQUIRE(j);
    int n = 0;
    for (const auto& r : j->records()) {
      for (const auto& id : join_ids)
        n += r.step == id && r.event == JournalEvent::begin;
    }
    return n;
  };
  int before = federation_begins();
  CHECK(before > 0);  // the first run did begin the join
  CHECK(app::run_agent(options, runner, clock) == 0);
  CHECK(federation_begins() == before);  // this one did not touch it
  CHECK(std::filesystem::exists(dir.path() / "var/lib/binder-firstboot/complete"));
  s = app::collect_status(dir.path());
  REQUIRE(s);
  CHECK((*s)["handover"]["state"] == "handed over");
  CHECK((*s)["handover"]["charts"] == "cert-manager,example");
  CHECK(app::format_status(*s).find("handover: handed over at ") != std::string::npos);
}
