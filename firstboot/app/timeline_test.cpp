// The timeline from journals the agent and the journal code wrote: power-on from boot_ms,
// network online, per-step durations, milestones, reboots, v1 journals.
#include "firstboot/app/timeline.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "firstboot/app/agent.hpp"
#include "firstboot/app/status.hpp"
#include "firstboot/journal.hpp"
#include "support/firstboot/test_member.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
namespace fs = binder::common::fs;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A clock that moves 100 ms at every look and knows the time since power-on.
struct BootClock : testing::FakeClock {
  std::chrono::milliseconds boot{20'000};
  std::chrono::system_clock::time_point now() override {
    t += 100ms;
    boot += 100ms;
    return t;
  }
  std::optional<std::chrono::milliseconds> since_boot() override { return boot; }
};

const json* entry(const json& t, std::string_view name) {
  for (const auto& e : t["entries"]) {
    if (e["name"] == name)
      return &e;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("timeline: an agent run gives power-on, network, each step and milestones", "[timeline]") {
  fs::TempDir dir = *fs::TempDir::create("timeline");
  REQUIRE(fs::write_file_atomic(dir.path() / "etc/binder-image/member.yaml", testing::k_standalone_member));
  BootClock clock;
  auto start = clock.t;
  {
    auto j = Journal::open(dir.path() / "var/lib/binder-firstboot/journal", clock);
    REQUIRE(j);
    REQUIRE(app::record_boot(*j, {"boot-1", 12'000}));
    REQUIRE(app::record_boot(*j, {"boot-1", 13'000}));  // same boot: nothing new
  }
  testing::FakeRunner runner;
  app::AgentOptions o;
  o.root = dir.path();
  o.federation = false;
  REQUIRE(app::run_agent(o, runner, clock) == 0);

  auto s = app::collect_status(dir.path());
  REQUIRE(s);
  const json& t = (*s)["timeline"];
  // The first record was written at boot 20.1 s, 100 ms after `start`: power-on 20 s before start.
  CHECK(t["power_on"] == format_utc(start - 20s));
  REQUIRE(entry(t, "power-on"));
  CHECK((*entry(t, "power-on"))["at_s"] == 0.0);
  REQUIRE(entry(t, "network online"));
  CHECK((*entry(t, "network online"))["at_s"] == 12.0);
  const json* md = entry(t, "metadata");
  REQUIRE(md);
  CHECK((*md)["state"] == "done");
  CHECK((*md)["duration_s"].get<double>() > 0.0);
  CHECK((*md)["at_s"].get<double>() > 20.0);
  const json* ready = entry(t, "k3s:ready");
  REQUIRE(ready);
  const json* k3s_ready = entry(t, "k3s ready");
  REQUIRE(k3s_ready);
  CHECK((*k3s_ready)["kind"] == "milestone");
  CHECK((*k3s_ready)["at_s"] == (*ready)["at_s"]);
  // In run order, each step's end after the previous one's; the milestone right after its step;
  // the join (not run here: federation = false) listed as pending.
  double prev = 0;
  std::vector<std::string> names;
  for (const auto& e : t["entries"]) {
    names.push_back(e["name"]);
    if (e["kind"] == "step" && e["state"] == "done") {
      CHECK(e["at_s"].get<double>() > prev);
      prev = e["at_s"].get<double>();
    }
  }
  CHECK(names.front() == "power-on");
  auto k3s_at = std::find(names.begin(), names.end(), "k3s:ready");
  REQUIRE(k3s_at != names.end());
  CHECK(*(k3s_at + 1) == "k3s ready");
  CHECK((*entry(t, "dns:records"))["state"] == "pending");
  CHECK((*entry(t, "dns:records"))["at_s"].is_null());
  // The charts were not deployed: their milestone is pending.
  REQUIRE(entry(t, "charts ready"));
  CHECK((*entry(t, "charts ready"))["state"] == "pending");

  std::string text = app::format_timeline(t);
  INFO(text);
  CHECK(text.find("power-on: " + format_utc(start - 20s)) == 0);
  CHECK(text.find("+12.0s  network online") != std::string::npos);
  CHECK(text.find("== k3s ready") != std::string::npos);
  for (std::size_t pos = 0, nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    CHECK(nl - pos <= 80);
  }
}

TEST_CASE("timeline: across a reboot offsets use wall time, durations stay within a boot", "[timeline]") {
  fs::TempDir dir = *fs::TempDir::create("timeline");
  auto path = dir.path() / "journal";
  BootClock clock;
  auto power_on = clock.t - clock.boot;
  {
    auto j = *Journal::open(path, clock);
    REQUIRE(j.append("k3s:ready", "f", JournalEvent::begin));
    REQUIRE(j.append("k3s:ready", "f", JournalEvent::failed, "timed out"));
    clock.t += 10min;  // powered off, booted again
    clock.boot = 5s;
    REQUIRE(j.append("k3s:ready", "f", JournalEvent::begin));
    clock.t += 30s;
    clock.boot += 30s;
    REQUIRE(j.append("k3s:ready", "f", JournalEvent::done, "changed"));
    REQUIRE(j.append("readiness", "r", JournalEvent::begin));
    REQUIRE(j.append("readiness", "r", JournalEvent::failed, "https://example.mybinder.org/health: 503"));
  }
  auto j = *Journal::read(path);
  json t = app::collect_timeline(j, {"k3s:ready", "mybinder:chart"});
  CHECK(t["power_on"] == format_utc(power_on));
  const json* ready = entry(t, "k3s:ready");
  REQUIRE(ready);
  CHECK((*ready)["state"] == "done");
  CHECK((*ready)["duration_s"] == 30.1);  // boot_ms within the second boot
  double wall =
      std::chrono::duration<double>(*parse_utc((*ready)["end"].get<std::string>()) - power_on).count();
  CHECK((*ready)["at_s"] == Approx(wall));
  CHECK((*ready)["at_s"].get<double>() > 600);
  // A step the journal holds but the list does not: listed after, with its milestone.
  const json* readiness = entry(t, "readiness");
  REQUIRE(readiness);
  CHECK((*readiness)["state"] == "failed");
  const json* https = entry(t, "HTTPS healthy");
  REQUIRE(https);
  CHECK((*https)["state"] == "pending");
  CHECK((*https)["at_s"].is_null());
  const json* charts = entry(t, "charts ready");
  REQUIRE(charts);
  CHECK((*charts)["state"] == "pending");
  CHECK((*entry(t, "mybinder:chart"))["state"] == "pending");
}

TEST_CASE("timeline: a v1 journal has no power-on but keeps wall-clock durations", "[timeline]") {
  fs::TempDir dir = *fs::TempDir::create("timeline");
  auto path = dir.path() / "journal";
  REQUIRE(fs::write_file_atomic(
      path,
      "# binder-firstboot journal v1\n"
      R"({"detail":"","event":"begin","fingerprint":"f","seq":1,"step":"metadata","time":"2026-09-21T14:13:20Z"})"
      "\n"
      R"({"detail":"changed","event":"done","fingerprint":"f","seq":2,"step":"metadata","time":"2026-09-21T14:13:23Z"})"
      "\n",
      0600));
  auto j = *Journal::read(path);
  json t = app::collect_timeline(j, {"metadata"});
  CHECK(t["power_on"].is_null());
  CHECK((*entry(t, "metadata"))["duration_s"] == 3.0);
  CHECK((*entry(t, "metadata"))["at_s"].is_null());
  CHECK(app::format_timeline(t).find("power-on: unknown") == 0);
}

TEST_CASE("timeline: durations read as seconds, minutes, hours", "[timeline]") {
  CHECK(app::format_seconds(0.04) == "0.0s");
  CHECK(app::format_seconds(41.25) == "41.2s");
  CHECK(app::format_seconds(62.3) == "1m02.3s");
  CHECK(app::format_seconds(7384) == "2h03m04s");
  CHECK(app::format_seconds(-3) == "-3.0s");
}
