// The Harbor client against the schema-checking fake (tests/support/fakes/harbor.py): project
// with quota, retention policy and robots are created once and left alone on the next converge
// (no write requests), quota and permission drift is repaired, a robot whose secret we lost gets
// ours again, and no cookie is ever sent back (Harbor's CSRF trap).
#include "firstboot/clients/harbor.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

#include "support/fake_server.hpp"

using namespace binder::firstboot::clients;
using namespace std::chrono_literals;
namespace test = binder::test;

namespace {

binder::common::http::Options harbor_opts(const test::FakeServer& f) {
  binder::common::http::Options o;
  o.ca_file = f.ca_path();
  o.backoff_base = 10ms;
  o.backoff_max = 100ms;
  o.max_attempts = 3;
  return o;
}

int count_harbor_writes(const nlohmann::json& log) {
  int n = 0;
  for (const auto& r : log) {
    std::string m = r.value("method", "");
    if (m != "GET" && m != "HEAD")
      ++n;
  }
  return n;
}

const RobotSpec k_builder{"builder", "BinderHub builder: push new user images", {"push", "pull"}};
const RobotSpec k_puller{"user-puller", "Pull access to user images", {"pull"}};

}  // namespace

TEST_CASE("harbor: health, project, quota, retention and robots converge, then stay unchanged") {
  auto pki = test::TestPki::create();
  test::FakeServer fake(test::FakeKind::harbor, pki);
  Harbor h(fake.api_base(), "admin", test::k_fake_harbor_admin_password, harbor_opts(fake));
  CHECK(h.healthy().value());

  Change change{};
  auto project = h.ensure_project("mybinder-builds", 10000, change).value();
  CHECK(change == Change::created);
  CHECK(project.id > 0);
  CHECK(h.ensure_retention(project, retention_policy(project.id, 30)).value() == Change::created);
  std::string secret = make_robot_secret();
  auto builder = h.ensure_robot(project, k_builder, secret, std::nullopt, change).value();
  CHECK(change == Change::created);
  CHECK(builder.name == "robot$mybinder-builds+builder");
  auto puller = h.ensure_robot(project, k_puller, make_robot_secret(), std::nullopt, change).value();
  CHECK(change == Change::created);

  auto state = fake.state();
  CHECK(state["robots"][std::to_string(builder.id)]["secret"] == secret);
  int writes = count_harbor_writes(fake.requests());

  // Second converge: reads only.
  project = h.ensure_project("mybinder-builds", 10000, change).value();
  CHECK(change == Change::unchanged);
  CHECK(h.ensure_retention(project, retention_policy(project.id, 30)).value() == Change::unchanged);
  h.ensure_robot(project, k_builder, secret, builder.id, change).value();
  CHECK(change == Change::unchanged);
  h.ensure_robot(project, k_puller, "Unused1secret", puller.id, change).value();
  CHECK(change == Change::unchanged);
  CHECK(count_harbor_writes(fake.requests()) == writes);
  CHECK(fake.state()["robots"].size() == 2);
  CHECK(fake.state()["projects"].size() == 1);
  CHECK(fake.violations().empty());
}

TEST_CASE("harbor: quota, retention and robot drift are repaired, a lost robot secret is reset") {
  auto pki = test::TestPki::create();
  test::FakeServer fake(test::FakeKind::harbor, pki);
  Harbor h(fake.api_base(), "admin", test::k_fake_harbor_admin_password, harbor_opts(fake));
  Change change{};
  auto project = h.ensure_project("mybinder-builds", 25, change).value();
  auto quota = fake.state()["quotas"].begin().value();
  CHECK(quota["hard"]["storage"] == 25 * k_gib);
  h.ensure_project("mybinder-builds", 15000, change).value();
  CHECK(change == Change::updated);
  CHECK(fake.state()["quotas"].begin().value()["hard"]["storage"] == 15000 * k_gib);

  CHECK(h.ensure_retention(project, retention_policy(project.id, 7)).value() == Change::created);
  project = *h.find_project("mybinder-builds").value();
  CHECK(h.ensure_retention(project, retention_policy(project.id, 30)).value() == Change::updated);
  CHECK(h.ensure_retention(project, retention_policy(project.id, 30)).value() == Change::unchanged);

  // A robot made by someone else (pull only), whose secret we never had.
  auto other = h.create_robot(project, {"builder", "x", {"pull"}}).value();
  std::string secret = make_robot_secret();
  auto robot = h.ensure_robot(project, k_builder, secret, std::nullopt, change).value();
  CHECK(robot.id == other.id);
  CHECK(change == Change::updated);
  auto state = fake.state()["robots"][std::to_string(robot.id)];
  CHECK(state["secret"] == secret);
  CHECK(state["permissions"][0]["access"].size() == 2);
  CHECK(fake.violations().empty());
}

TEST_CASE("harbor: an unhealthy registry says so, a wrong password is a precondition error") {
  auto pki = test::TestPki::create();
  test::FakeServer fake(test::FakeKind::harbor, pki, {.extra_args = {"--health-delay", "60"}});
  Harbor h(fake.api_base(), "admin", test::k_fake_harbor_admin_password, harbor_opts(fake));
  CHECK_FALSE(h.healthy().value());
  Harbor bad(fake.api_base(), "admin", "wrong", harbor_opts(fake));
  auto r = bad.find_project("mybinder-builds");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == binder::common::Errc::precondition);
  CHECK_THAT(r.error().message, Catch::Contains("X-Request-Id binder-"));
}

TEST_CASE("harbor: robot secrets satisfy Harbor's complexity rule") {
  for (int i = 0; i < 50; ++i) {
    auto s = make_robot_secret();
    CHECK(s.size() == 32);
    CHECK(std::any_of(s.begin(), s.end(), ::isupper));
    CHECK(std::any_of(s.begin(), s.end(), ::islower));
    CHECK(std::any_of(s.begin(), s.end(), ::isdigit));
  }
}

TEST_CASE("harbor: the GC schedule is created, then unchanged, drift is put back, bad input is refused") {
  auto pki = test::TestPki::create();
  test::FakeServer fake(test::FakeKind::harbor, pki);
  Harbor h(fake.api_base(), "admin", test::k_fake_harbor_admin_password, harbor_opts(fake));
  const Json want = {{"schedule", {{"type", "Custom"}, {"cron", "0 0 7 * * 0"}}},
                     {"parameters", {{"delete_untagged", true}, {"workers", 1}}}};
  CHECK(fake.state()["gc_schedule"].is_null());
  CHECK(h.ensure_gc_schedule(want).value() == Change::created);
  auto gc = fake.state()["gc_schedule"];
  CHECK(gc["schedule"]["cron"] == "0 0 7 * * 0");
  CHECK(Json::parse(gc["job_parameters"].get<std::string>())["delete_untagged"] == true);
  int writes = count_harbor_writes(fake.requests());
  CHECK(h.ensure_gc_schedule(want).value() == Change::unchanged);
  CHECK(count_harbor_writes(fake.requests()) == writes);

  // Someone changed it in the UI: PUT restores ours.
  Json other = want;
  other["schedule"]["cron"] = "0 0 1 * * *";
  other["parameters"]["delete_untagged"] = false;
  CHECK(h.ensure_gc_schedule(other).value() == Change::updated);
  CHECK(h.ensure_gc_schedule(want).value() == Change::updated);
  CHECK(fake.state()["gc_schedule"]["schedule"]["cron"] == "0 0 7 * * 0");
  CHECK(fake.violations().empty());

  // The fake validates like Harbor: seconds must be 0.
  Json bad = want;
  bad["schedule"]["cron"] = "5 0 7 * * 0";
  CHECK_FALSE(h.ensure_gc_schedule(bad));
}
