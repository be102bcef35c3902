// The dns:records step with a Cloudflare token scoped to DNS:Edit alone (the fake answers like
// Cloudflare: no zone listed without Zone:Read): without dns.zone_id one line names the missing
// permission and the metadata key; with it the records are published, and a rerun is unchanged.
#include "integration/federation/fixture.hpp"

using namespace binder::federation_test;

namespace {

fb::Step& dns_step(Run& run) {
  for (auto& s : run.steps) {
    if (s->id() == "dns:records")
      return *s;
  }
  FAIL("no dns:records step");
  throw;
}

}  // namespace

TEST_CASE("federation: a DNS:Edit-only token needs dns.zone_id and works with it", "[federation]") {
  Fakes fakes;
  test::FakeServer scoped{
      test::FakeKind::cloudflare, fakes.pki, {.extra_args = {"--permissions", "dns_records:edit"}}};
  auto root = make_root(fakes);
  auto options = fakes.options();
  options.cloudflare_api = scoped.api_base();

  fb::Member member = test_member();
  {
    Run run(root.path(), fakes, member, options);
    auto r = dns_step(run).apply(run.env);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == binder::common::Errc::precondition);
    CHECK(
        r.error().to_string().find("give it the permission Zone:Zone:Read (#zone:read) on that zone, or set "
                                   "dns.zone_id in the metadata") != std::string::npos);
    CHECK(r.error().to_string().find('\n') == std::string::npos);
  }
  member.dns->zone_id = scoped.state()["zones"][0]["id"];
  Run run(root.path(), fakes, member, options);
  CHECK(dns_step(run).describe(run.env).find("(id " + member.dns->zone_id + ")") != std::string::npos);
  auto first = dns_step(run).apply(run.env);
  INFO((first ? std::string("ok") : first.error().to_string()));
  REQUIRE(first);
  CHECK(*first == fb::Outcome::changed);
  CHECK(scoped.state()["zones"][0]["records"].size() == 2);
  auto again = dns_step(run).apply(run.env);
  REQUIRE(again);
  CHECK(*again == fb::Outcome::unchanged);
  CHECK(scoped.violations().empty());
}
