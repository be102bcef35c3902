// Metadata `readiness`: defaults (30 min, 2i2c's /versions, mybinder.org's /active_hosts, no test
// launch), values carried into the member and its JSON, errors naming the key.
#include <catch2/catch.hpp>

#include "firstboot/metadata/load.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
using binder::firstboot::testing::TestRoot;

namespace {

std::string readiness_member_yaml(const std::string& readiness) {
  return "binder_member:\n  name: example\n  domain: mybinder.org\n  dns: {api_token: cf-secret-token-1}"
         "\n  tls: {email: ops@example.org}\n  registry:\n    s3: {endpoint: \"https://s3.example.org\", "
         "region: eu, bucket: b, access_key: AK123456, secret_key: SK-very-secret}\n"
         "  node: {extra_disk: none}\n" +
         readiness;
}

LoadOptions readiness_opts(const TestRoot& t) { return LoadOptions{t.dir.path(), std::nullopt, false}; }

}  // namespace

TEST_CASE("metadata: readiness defaults and settings", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml", readiness_member_yaml(""));
  auto r = load_member(readiness_opts(t), t.runner);
  REQUIRE(r);
  CHECK(r->member.readiness.timeout_minutes == 30);
  CHECK(r->member.readiness.prime_versions_url == "https://2i2c.mybinder.org/versions");
  CHECK(r->member.readiness.active_hosts_url == "https://mybinder.org/active_hosts");
  CHECK(r->member.readiness.test_launch.empty());

  t.write("/etc/binder-image/member.yaml",
          readiness_member_yaml(
              "  readiness: {timeout_minutes: 45, test_launch: gh/binder-examples/requirements/HEAD, "
              "prime_versions_url: \"https://gesis.mybinder.org/versions\", rotation_timeout_minutes: 5}\n"));
  auto with = load_member(readiness_opts(t), t.runner);
  REQUIRE(with);
  CHECK(with->member.readiness.timeout_minutes == 45);
  CHECK(with->member.readiness.rotation_timeout_minutes == 5);
  CHECK(with->member.readiness.test_launch == "gh/binder-examples/requirements/HEAD");
  auto j = with->member.to_json();
  CHECK(j["readiness"]["prime_versions_url"] == "https://gesis.mybinder.org/versions");
}

TEST_CASE("metadata: bad readiness values are errors naming the key", "[metadata]") {
  TestRoot t;
  t.write(
      "/etc/binder-image/member.yaml",
      readiness_member_yaml(
          "  readiness: {timeout_minutes: 0, prime_versions_url: \"http://x/versions\", test_launch: \"not a spec\", deadline: 3}\n"));
  auto r = load_member(readiness_opts(t), t.runner);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == binder::common::Errc::invalid_config);
  std::string e = r.error().to_string();
  CHECK(
      e.find(
          "binder_member.readiness.timeout_minutes: expected whole minutes between 1 and 1440, got number 0") !=
      std::string::npos);
  CHECK(e.find("binder_member.readiness.prime_versions_url: 'http://x/versions' is not an https:// URL") !=
        std::string::npos);
  CHECK(e.find("binder_member.readiness.test_launch: 'not a spec' is not a BinderHub build spec") !=
        std::string::npos);
  CHECK(e.find("binder_member.readiness.deadline: unknown key 'deadline'") != std::string::npos);
}
