// Journal: format, torn-tail recovery at every byte offset, version refusal, outputs.
#include "firstboot/journal.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
namespace fs = binder::common::fs;

TEST_CASE("journal: records round-trip and outputs are readable", "[journal]") {
  auto dir = *fs::TempDir::create("journal");
  testing::FakeClock clock;
  auto path = dir.path() / "j";
  {
    auto j = Journal::open(path, clock);
    REQUIRE(j);
    REQUIRE(j->append("host:hostname", "fp1", JournalEvent::begin));
    REQUIRE(j->put("secrets", "harbor.admin_password", "pw1"));
    REQUIRE(j->append("host:hostname", "fp1", JournalEvent::done, "changed"));
    REQUIRE(j->put("secrets", "harbor.admin_password", "pw2"));
  }
  auto j = Journal::open(path, clock);
  REQUIRE(j);
  REQUIRE(j->records().size() == 4);
  CHECK(j->records()[2].seq == 3);
  CHECK(j->records()[2].time == "2026-09-21T14:13:20.000Z");
  CHECK(!j->records()[2].boot_ms);  // the fake clock does not know
  CHECK(j->is_complete("host:hostname", "fp1"));
  CHECK(!j->is_complete("host:hostname", "fp2"));
  CHECK(j->get("harbor.admin_password") == "pw2");
  CHECK(!j->get("nothing"));
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  auto text = *fs::read_file(path);
  CHECK(text.starts_with("# binder-firstboot journal v2\n{\"detail\""));
}

namespace {
struct BootClock : testing::FakeClock {
  std::chrono::milliseconds boot{12'345};
  std::optional<std::chrono::milliseconds> since_boot() override { return boot; }
};
}  // namespace

TEST_CASE("journal: v2 records carry milliseconds and the time since power-on", "[journal]") {
  auto dir = *fs::TempDir::create("journal");
  BootClock clock;
  clock.t += std::chrono::milliseconds(250);
  auto path = dir.path() / "j";
  {
    auto j = Journal::open(path, clock);
    REQUIRE(j);
    REQUIRE(j->append("k3s:ready", "fp", JournalEvent::done, "changed"));
  }
  auto j = Journal::read(path);
  REQUIRE(j);
  REQUIRE(j->records().size() == 1);
  CHECK(j->records()[0].time == "2026-09-21T14:13:20.250Z");
  CHECK(j->records()[0].boot_ms == 12'345);
  CHECK(j->version() == 2);
  CHECK(parse_utc(j->records()[0].time) == clock.t);
}

TEST_CASE("journal: a v1 journal is read and its header upgraded, records kept", "[journal]") {
  auto dir = *fs::TempDir::create("journal");
  testing::FakeClock clock;
  auto path = dir.path() / "j";
  std::string v1 =
      "# binder-firstboot journal v1\n"
      R"({"detail":"","event":"begin","fingerprint":"f","seq":1,"step":"metadata","time":"2026-09-21T14:13:20Z"})"
      "\n"
      R"({"detail":"changed","event":"done","fingerprint":"f","seq":2,"step":"metadata","time":"2026-09-21T14:13:21Z"})"
      "\n";
  REQUIRE(fs::write_file_atomic(path, v1, 0600));
  auto old = Journal::read(path);
  REQUIRE(old);
  CHECK(old->version() == 1);
  CHECK(*fs::read_file(path) == v1);  // read() never writes
  auto j = Journal::open(path, clock);
  REQUIRE(j);
  CHECK(j->version() == 2);
  CHECK(j->is_complete("metadata", "f"));
  CHECK(parse_utc(j->records()[1].time) ==
        std::chrono::system_clock::from_time_t(1'790'000'000) + std::chrono::seconds(1));
  REQUIRE(j->append("host:hostname", "g", JournalEvent::begin));
  auto text = *fs::read_file(path);
  CHECK(text.starts_with("# binder-firstboot journal v2\n"));
  CHECK(text.substr(text.find('\n')).starts_with(v1.substr(v1.find('\n'))));
  CHECK((*Journal::read(path)).records().size() == 3);
}

TEST_CASE("journal: UTC times round-trip, malformed ones are refused", "[journal]") {
  auto t = std::chrono::system_clock::from_time_t(1'790'000'000) + std::chrono::milliseconds(7);
  CHECK(format_utc(t) == "2026-09-21T14:13:20.007Z");
  CHECK(parse_utc("2026-09-21T14:13:20.007Z") == t);
  for (const char* bad : {"", "2026-09-21", "2026-09-21T14:13:20", "2026-13-21T14:13:20Z",
                          "2026-09-21T14:13:20.7Z", "2026-09-21 14:13:20Z", "x026-09-21T14:13:20Z"}) {
    INFO(bad);
    CHECK(!parse_utc(bad));
  }
}

TEST_CASE("journal: torn last record is dropped at every byte offset", "[journal]") {
  auto dir = *fs::TempDir::create("journal");
  testing::FakeClock clock;
  auto path = dir.path() / "j";
  std::vector<std::size_t> ends;  // file size after each complete record
  {
    auto j = Journal::open(path, clock);
    REQUIRE(j);
    ends.push_back(*fs::size_of(path));
    for (int i = 0; i < 3; ++i) {
      REQUIRE(j->append("s" + std::to_string(i), "fp", JournalEvent::done, "changed",
                        {{"k", "v" + std::to_string(i)}}));
      ends.push_back(*fs::size_of(path));
    }
  }
  std::string full = *fs::read_file(path);
  for (std::size_t cut = 0; cut <= full.size(); ++cut) {
    INFO("cut at " << cut);
    REQUIRE(fs::write_file_atomic(path, full.substr(0, cut), 0600));
    auto j = Journal::open(path, clock);
    REQUIRE(j);
    std::size_t complete = 0;
    for (std::size_t i = 1; i < ends.size(); ++i) {
      complete += cut >= ends[i] ? 1 : 0;
    }
    CHECK(j->records().size() == complete);
    // The file now ends at a record boundary, and appending works.
    auto size = *fs::size_of(path);
    CHECK(std::find(ends.begin(), ends.end(), size) != ends.end());
    REQUIRE(j->append("after", "fp", JournalEvent::begin));
    auto again = Journal::open(path, clock);
    REQUIRE(again);
    CHECK(again->records().size() == complete + 1);
    CHECK(!again->recovered());
  }
}

TEST_CASE("journal: a newer version is refused, not overwritten", "[journal]") {
  auto dir = *fs::TempDir::create("journal");
  testing::FakeClock clock;
  auto path = dir.path() / "j";
  REQUIRE(fs::write_file_atomic(path, "# binder-firstboot journal v9\n{}\n", 0600));
  auto j = Journal::open(path, clock);
  REQUIRE(!j);
  CHECK(j.error().code == binder::common::Errc::corrupt_state);
  CHECK(j.error().message.find("newer") != std::string::npos);
  CHECK(*fs::read_file(path) == "# binder-firstboot journal v9\n{}\n");
}

TEST_CASE("journal: damage before the last line is corrupt state", "[journal]") {
  auto dir = *fs::TempDir::create("journal");
  testing::FakeClock clock;
  auto path = dir.path() / "j";
  REQUIRE(fs::write_file_atomic(
      path, "# binder-firstboot journal v1\ngarbage\n{\"seq\":1,\"step\":\"a\",\"event\":\"done\"}\n", 0600));
  auto j = Journal::open(path, clock);
  REQUIRE(!j);
  CHECK(j.error().code == binder::common::Errc::corrupt_state);
}

// Found by ci/fuzz (fuzz_journal): a field of the wrong JSON type threw from json::value() and
// terminated the agent (exit 134) instead of being a damaged record.
TEST_CASE("journal: fields of the wrong type are a damaged record, not a crash", "[journal][fuzz]") {
  std::size_t good = 0;
  bool torn = false;
  std::string head = "# binder-firstboot journal v1\n";
  std::string ok = R"({"seq":1,"step":"a","event":"begin"})"
                   "\n";
  for (const char* bad : {R"({"seq":2,"step":"a","event":"done","time":{}})",
                          R"({"seq":2,"step":"a","event":"done","fingerprint":7})",
                          R"({"seq":2,"step":"a","event":"done","detail":[1]})"}) {
    INFO(bad);
    // As the last line: a torn tail, dropped.
    auto last = parse_journal(head + ok + bad + "\n", good, torn);
    REQUIRE(last);
    CHECK(last->size() == 1);
    CHECK(torn);
    CHECK(good == head.size() + ok.size());
    // In the middle: corrupt_state.
    auto mid = parse_journal(head + bad + "\n" + ok, good, torn);
    REQUIRE(!mid);
    CHECK(mid.error().code == binder::common::Errc::corrupt_state);
  }
}
