// Runner semantics: skip done, adopt satisfied, stop at failure, exit codes, completion marker.
#include "firstboot/runner.hpp"

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
namespace fs = binder::common::fs;

namespace {

struct CountingStep : Step {
  std::string name;
  std::string fp = "1";
  bool satisfied = false;
  std::optional<Error> fail_with;
  int applied = 0;
  explicit CountingStep(std::string n) : name(std::move(n)) {}
  std::string_view id() const override { return name; }
  std::string describe(const Env&) const override { return "count " + name; }
  std::string fingerprint(const Env&) const override { return fp; }
  Result<bool> is_satisfied(Env&) const override { return satisfied; }
  Result<Outcome> apply(Env& env) override {
    if (fail_with) {
      return std::unexpected(*fail_with);
    }
    ++applied;
    TRY(env.put_output(name + ".out", "value"));
    return Outcome::changed;
  }
};

struct Fixture {
  testing::TestRoot t;
  StepList steps;
  std::vector<CountingStep*> raw;
  Fixture() {
    for (const char* n : {"a", "b", "c"}) {
      auto s = std::make_unique<CountingStep>(n);
      raw.push_back(s.get());
      steps.push_back(std::move(s));
    }
  }
  Result<RunSummary> run() {
    TRY_ASSIGN(Journal j, Journal::open(t.path(k_journal_path), t.clock));
    Env env(t.dir.path(), {}, {}, t.runner, t.clock, j);
    return run_steps(steps, env, j);
  }
};

}  // namespace

TEST_CASE("runner: steps run once, a second run skips them all", "[runner]") {
  Fixture f;
  auto r = f.run();
  REQUIRE(r);
  CHECK(r->changed == 3);
  CHECK(std::filesystem::exists(f.t.path(k_complete_path)));
  auto again = f.run();
  REQUIRE(again);
  CHECK(again->skipped == 3);
  CHECK(f.raw[0]->applied == 1);
}

TEST_CASE("runner: a satisfied step is adopted without apply", "[runner]") {
  Fixture f;
  f.raw[1]->satisfied = true;
  auto r = f.run();
  REQUIRE(r);
  CHECK(r->adopted == 1);
  CHECK(f.raw[1]->applied == 0);
}

TEST_CASE("runner: stops at the first failure and resumes there", "[runner]") {
  Fixture f;
  f.raw[1]->fail_with = Error{binder::common::Errc::temporary, "api not up", std::nullopt, {}};
  auto r = f.run();
  REQUIRE(!r);
  CHECK(binder::common::exit_code_for(r.error()) == 75);
  CHECK(r.error().to_string() == "step 'b': api not up");
  CHECK(f.raw[2]->applied == 0);
  CHECK(!std::filesystem::exists(f.t.path(k_complete_path)));
  auto j = Journal::read(f.t.path(k_journal_path));
  REQUIRE(j);
  CHECK(j->last_state("b")->event == JournalEvent::failed);
  CHECK(j->last_state("b")->detail == "step 'b': api not up");
  CHECK(j->get("a.out") == "value");

  f.raw[1]->fail_with.reset();
  auto r2 = f.run();
  REQUIRE(r2);
  CHECK(r2->skipped == 1);
  CHECK(f.raw[0]->applied == 1);
  CHECK(f.raw[1]->applied == 1);
  CHECK(f.raw[2]->applied == 1);
}

// GCC 12 at -O2 reports a bogus -Wrestrict inside libstdc++ for assigning a one-character
// literal to a std::string (`fp = "2"` below): GCC bug 105329 (fixed upstream after 12.2).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wrestrict"
TEST_CASE("runner: a changed fingerprint applies the step again", "[runner]") {
  Fixture f;
  REQUIRE(f.run());
  f.raw[2]->fp = "2";
  auto r = f.run();
  REQUIRE(r);
  CHECK(r->skipped == 2);
  CHECK(f.raw[2]->applied == 2);
}
#pragma GCC diagnostic pop

TEST_CASE("runner: the lock excludes a second instance", "[runner]") {
  auto dir = *fs::TempDir::create("lock");
  auto a = RunLock::acquire(dir.path() / "run" / "l.lock");
  REQUIRE(a);
  auto b = RunLock::acquire(dir.path() / "run" / "l.lock");
  REQUIRE(!b);
  CHECK(b.error().code == binder::common::Errc::temporary);
}
