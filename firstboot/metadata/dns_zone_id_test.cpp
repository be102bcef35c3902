// Metadata dns.zone_id: optional, 32 lowercase hex digits, carried into the member (and its JSON).
#include <catch2/catch.hpp>

#include "firstboot/metadata/load.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
using binder::firstboot::testing::TestRoot;

namespace {

std::string member_yaml(const std::string& dns) {
  return "binder_member:\n  name: example\n  domain: mybinder.org\n  dns: " + dns +
         "\n  tls: {email: ops@example.org}\n  registry:\n    s3: {endpoint: \"https://s3.example.org\", "
         "region: eu, bucket: b, access_key: AK123456, secret_key: SK-very-secret}\n"
         "  node: {extra_disk: none}\n";
}

LoadOptions dns_opts(const TestRoot& t) { return LoadOptions{t.dir.path(), std::nullopt, false}; }

}  // namespace

TEST_CASE("metadata: dns.zone_id is optional and kept when given", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml", member_yaml("{zone: mybinder.org, api_token: cf-secret-token-1}"));
  auto r = load_member(dns_opts(t), t.runner);
  REQUIRE(r);
  CHECK(r->member.dns->zone_id.empty());
  CHECK_FALSE(r->member.to_json(Redact::yes)["dns"].contains("zone_id"));

  const std::string id = "023e105f4ecef8ad9ca31a8372d0c353";
  t.write("/etc/binder-image/member.yaml",
          member_yaml("{zone: mybinder.org, zone_id: " + id + ", api_token: cf-secret-token-1}"));
  auto with = load_member(dns_opts(t), t.runner);
  REQUIRE(with);
  CHECK(with->member.dns->zone_id == id);
  CHECK(with->member.to_json(Redact::yes)["dns"]["zone_id"] == id);
}

TEST_CASE("metadata: a dns.zone_id that is not 32 hex digits is an error naming the key", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml",
          member_yaml("{zone: mybinder.org, zone_id: mybinder.org, api_token: cf-secret-token-1}"));
  auto r = load_member(dns_opts(t), t.runner);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == binder::common::Errc::invalid_config);
  CHECK(r.error().to_string().find("binder_member.dns.zone_id: 'mybinder.org' is not a Cloudflare zone id") !=
        std::string::npos);
}
