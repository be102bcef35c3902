// The Cloudflare client against the schema-checking fake (tests/support/fakes/cloudflare.py):
// records are found before they are created, a second converge writes nothing, drifted and
// duplicated records are repaired, pagination is followed, and a bad token is a clear error.
#include "firstboot/clients/cloudflare.hpp"

#include <catch2/catch.hpp>

#include "support/fake_server.hpp"

using namespace binder::firstboot::clients;
using namespace std::chrono_literals;
namespace test = binder::test;

namespace {

binder::common::http::Options opts(const test::FakeServer& f) {
  binder::common::http::Options o;
  o.ca_file = f.ca_path();
  o.backoff_base = 10ms;
  o.backoff_max = 100ms;
  o.max_attempts = 3;
  return o;
}

int count_writes(const nlohmann::json& log) {
  int n = 0;
  for (const auto& r : log) {
    std::string m = r.value("method", "");
    if (m != "GET" && m != "HEAD")
      ++n;
  }
  return n;
}

size_t record_count(const test::FakeServer& f) { return f.state()["zones"][0]["records"].size(); }

}  // namespace

TEST_CASE("cloudflare: member records are created once, then unchanged") {
  auto pki = test::TestPki::create();
  test::FakeServer fake(test::FakeKind::cloudflare, pki);
  Cloudflare cf(fake.api_base(), test::k_fake_cloudflare_token, opts(fake));
  auto zid = cf.zone_id("mybinder.org").value();
  auto records = member_records("example.mybinder.org", "203.0.113.7", "member example");
  for (const auto& r : records)
    CHECK(cf.ensure_record(zid, r).value() == Change::created);
  CHECK(record_count(fake) == 2);
  int writes = count_writes(fake.requests());
  for (const auto& r : records)
    CHECK(cf.ensure_record(zid, r).value() == Change::unchanged);
  CHECK(count_writes(fake.requests()) == writes);
  auto wild = cf.find_records(zid, "A", "*.example.mybinder.org").value();
  REQUIRE(wild.size() == 1);
  CHECK(wild[0].content == "203.0.113.7");
  CHECK_FALSE(wild[0].proxied);
  CHECK(fake.violations().empty());
}

TEST_CASE("cloudflare: a changed IP updates the record in place and duplicates are removed") {
  auto pki = test::TestPki::create();
  test::FakeServer fake(test::FakeKind::cloudflare, pki);
  Cloudflare cf(fake.api_base(), test::k_fake_cloudflare_token, opts(fake));
  auto zid = cf.zone_id("mybinder.org").value();
  DnsRecord r{"", "A", "x.mybinder.org", "198.51.100.1", false, 1, ""};
  REQUIRE(cf.create_record(zid, r));
  r.content = "198.51.100.2";
  REQUIRE(cf.create_record(zid, r));  // two A records for one name: valid, but not ours
  r.content = "203.0.113.9";
  CHECK(cf.ensure_record(zid, r).value() == Change::updated);
  auto found = cf.find_records(zid, "A", "x.mybinder.org").value();
  REQUIRE(found.size() == 1);
  CHECK(found[0].content == "203.0.113.9");
  CHECK(cf.ensure_record(zid, r).value() == Change::unchanged);
  CHECK(fake.violations().empty());
}

TEST_CASE("cloudflare: listing follows pagination") {
  auto pki = test::TestPki::create();
  test::FakeServer fake(test::FakeKind::cloudflare, pki);
  Cloudflare cf(fake.api_base(), test::k_fake_cloudflare_token, opts(fake));
  auto zid = cf.zone_id("mybinder.org").value();
  for (int i = 0; i < 103; ++i) {
    REQUIRE(cf.create_record(
        zid, {"", "A", "many.mybinder.org", fmt::format("10.0.{}.{}", i / 250, i % 250 + 1), false, 1, ""}));
  }
  CHECK(cf.find_records(zid, "A", "many.mybinder.org").value().size() == 103);
}

TEST_CASE("cloudflare: a wrong token or unknown zone is a precondition error") {
  auto pki = test::TestPki::create();
  test::FakeServer fake(test::FakeKind::cloudflare, pki);
  Cloudflare bad(fake.api_base(), "wrong-token", opts(fake));
  auto r = bad.zone_id("mybinder.org");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == binder::common::Errc::precondition);
  CHECK_THAT(r.error().message, Catch::Contains("HTTP 403"));
  Cloudflare cf(fake.api_base(), test::k_fake_cloudflare_token, opts(fake));
  CHECK(cf.zone_id("other.org").error().code == binder::common::Errc::precondition);
}

TEST_CASE(
    "cloudflare: a token with DNS:Edit alone works given the zone id, and the lookup names what is missing") {
  auto pki = test::TestPki::create();
  test::FakeServer fake(test::FakeKind::cloudflare, pki,
                        {.extra_args = {"--permissions", "dns_records:edit"}});
  Cloudflare cf(fake.api_base(), test::k_fake_cloudflare_token, opts(fake));
  // The lookup sees no zone: one line naming the permission and the way around it.
  auto lookup = cf.zone_id("mybinder.org");
  REQUIRE_FALSE(lookup);
  CHECK(lookup.error().code == binder::common::Errc::precondition);
  CHECK(lookup.error().message ==
        "Cloudflare: the API token does not see an active zone 'mybinder.org': give it the permission "
        "Zone:Zone:Read (#zone:read) on that zone, or set dns.zone_id in the metadata");
  std::string zid = fake.state()["zones"][0]["id"];
  for (const auto& r : member_records("example.mybinder.org", "203.0.113.7", "member example")) {
    CHECK(cf.ensure_record(zid, r).value() == Change::created);
  }
  CHECK(record_count(fake) == 2);
  CHECK(fake.violations().empty());
}

TEST_CASE("cloudflare: a token lacking a permission gets one line naming it, a bad token is not valid") {
  auto pki = test::TestPki::create();
  test::FakeServer fake(test::FakeKind::cloudflare, pki,
                        {.extra_args = {"--permissions", "zone:read,dns_records:read"}});
  Cloudflare cf(fake.api_base(), test::k_fake_cloudflare_token, opts(fake));
  auto zid = cf.zone_id("mybinder.org").value();
  CHECK(cf.find_records(zid, "A", "example.mybinder.org").value().empty());  // read is granted
  auto r = cf.ensure_record(zid, member_records("example.mybinder.org", "203.0.113.7", "x")[0]);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == binder::common::Errc::precondition);
  CHECK_THAT(
      r.error().message,
      Catch::StartsWith("Cloudflare: the API token lacks the permission Zone:DNS:Edit (#dns_records:edit) "
                        "on this zone (Cloudflare POST /zones/" +
                        zid +
                        "/dns_records: HTTP 403: 10000 "
                        "Authentication error"));
  CHECK(r.error().message.find('\n') == std::string::npos);

  test::FakeServer none(test::FakeKind::cloudflare, pki, {.extra_args = {"--permissions", "zone:read"}});
  Cloudflare ro(none.api_base(), test::k_fake_cloudflare_token, opts(none));
  auto list = ro.find_records(ro.zone_id("mybinder.org").value(), "A", "example.mybinder.org");
  REQUIRE_FALSE(list);
  CHECK_THAT(list.error().message,
             Catch::StartsWith("Cloudflare: the API token lacks the permission Zone:DNS:Read"));

  Cloudflare bad(fake.api_base(), "wrong-token", opts(fake));
  auto b = bad.find_records(zid, "A", "example.mybinder.org");
  REQUIRE_FALSE(b);
  CHECK_THAT(b.error().message, Catch::StartsWith("Cloudflare: the API token is not valid ("));
}

TEST_CASE("cloudflare: 429 with Retry-After and 500 are retried") {
  auto pki = test::TestPki::create();
  test::FakeServer fake(test::FakeKind::cloudflare, pki);
  Cloudflare cf(fake.api_base(), test::k_fake_cloudflare_token, opts(fake));
  fake.inject_fault({{"path", "/zones$"}, {"status", 429}, {"retry_after", 0}});
  fake.inject_fault({{"path", "/dns_records"}, {"status", 500}});
  auto zid = cf.zone_id("mybinder.org").value();
  CHECK(cf.ensure_record(zid, {"", "A", "y.mybinder.org", "203.0.113.1", false, 1, ""}).value() ==
        Change::created);
  fake.inject_fault({{"path", "/zones"}, {"status", 503}, {"count", -1}});
  auto down = cf.zone_id("mybinder.org");
  REQUIRE_FALSE(down);
  CHECK(down.error().code == binder::common::Errc::temporary);
}
