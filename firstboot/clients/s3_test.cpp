// The S3 lifecycle client against s3_fake.py, which checks each SigV4 signature with its own
// (Python) implementation, the payload hash and Content-MD5: the rule is put once, a second
// converge only reads, a wrong secret or bucket is a clear error.
#include "firstboot/clients/s3.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <catch2/catch.hpp>

#include "support/fake_s3.hpp"

using namespace binder::firstboot::clients;
using namespace std::chrono_literals;

namespace {

// The fake's credentials; the requests are signed with them.
class FakeS3 : public binder::test::FakeS3 {
 public:
  FakeS3() : binder::test::FakeS3("AKIDTEST", "se/cret+Key") {}
};

S3Config config(const FakeS3& fake) {
  return {fake.endpoint(), "eu-central", "registry", "AKIDTEST", "se/cret+Key", S3Addressing::path};
}

binder::common::http::Options fast() {
  binder::common::http::Options o;
  o.max_attempts = 2;
  o.backoff_base = 10ms;
  return o;
}

}  // namespace

TEST_CASE("s3: the abort-multipart lifecycle rule is put once, then left alone") {
  FakeS3 fake;
  S3 s3(config(fake), fast());
  CHECK_FALSE(s3.get_lifecycle().value().has_value());
  CHECK(s3.ensure_abort_multipart(1).value() == Change::created);
  auto xml = s3.get_lifecycle().value();
  REQUIRE(xml);
  CHECK(lifecycle_has_abort_rule(*xml, 1));
  CHECK(s3.ensure_abort_multipart(1).value() == Change::unchanged);
  CHECK(s3.ensure_abort_multipart(2).value() == Change::updated);
}

TEST_CASE("s3: a wrong secret or bucket is an error naming the S3 code") {
  FakeS3 fake;
  auto bad = config(fake);
  bad.secret_key = "nope";
  auto r = S3(bad, fast()).get_lifecycle();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == binder::common::Errc::precondition);
  CHECK_THAT(r.error().message, Catch::Contains("SignatureDoesNotMatch"));
  auto other = config(fake);
  other.bucket = "missing";
  auto m = S3(other, fast()).ensure_abort_multipart(1);
  REQUIRE_FALSE(m);
  CHECK_THAT(m.error().message, Catch::Contains("NoSuchBucket"));
}

TEST_CASE("s3: addressing style follows the endpoint") {
  S3Config aws{"https://s3.eu-west-1.amazonaws.com", "eu-west-1", "bkt", "AK", "SK", S3Addressing::automatic};
  auto fixed = [] { return std::chrono::system_clock::from_time_t(1369353600); };
  auto req = S3(aws, {}, fixed).signed_request("GET", "lifecycle", "");
  CHECK(req.url == "https://bkt.s3.eu-west-1.amazonaws.com/?lifecycle");
  S3Config hetzner{"https://nbg1.your-objectstorage.com", "", "bkt", "AK", "SK", S3Addressing::automatic};
  auto req2 = S3(hetzner, {}, fixed).signed_request("GET", "lifecycle", "");
  CHECK(req2.url == "https://nbg1.your-objectstorage.com/bkt?lifecycle");
  bool has_auth = false;
  for (const auto& h : req2.headers) {
    if (h.name == "Authorization") {
      has_auth = true;
      CHECK_THAT(h.value, Catch::Contains("/20130524/us-east-1/s3/aws4_request"));
    }
  }
  CHECK(has_auth);
}

TEST_CASE("s3: lifecycle XML matches mybinder's rule") {
  auto xml = lifecycle_xml(1);
  CHECK(lifecycle_has_abort_rule(xml, 1));
  CHECK_FALSE(lifecycle_has_abort_rule(xml, 2));
  CHECK_FALSE(lifecycle_has_abort_rule(
      "<LifecycleConfiguration><Rule><Status>Disabled</Status><AbortIncompleteMultipartUpload>"
      "<DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
      "</LifecycleConfiguration>",
      1));
}
