// Metadata: registry.kind (harbor-s3, harbor-local, external), the standalone default, and the
// validation errors with file:line and key.
#include <catch2/catch.hpp>

#include "common/log.hpp"
#include "firstboot/metadata/load.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
using binder::firstboot::testing::TestRoot;

namespace {

const std::string k_standalone = R"(binder_member:
  name: example
  domain: example.org
  mode: standalone
  node: {extra_disk: none}
)";

const std::string k_federation = R"(binder_member:
  name: example
  domain: mybinder.org
  dns: {provider: cloudflare, zone: mybinder.org, api_token: cf-secret-token-1}
  tls: {email: ops@example.org}
  node: {extra_disk: none}
)";

binder::common::Result<LoadedMember> load(TestRoot& t, const std::string& doc) {
  t.write("/etc/binder-image/member.yaml", doc);
  return load_member(LoadOptions{t.dir.path(), std::nullopt, false}, t.runner);
}

std::string registry_load_error(TestRoot& t, const std::string& doc) {
  auto r = load(t, doc);
  REQUIRE(!r);
  CHECK(r.error().code == binder::common::Errc::invalid_config);
  return r.error().to_string();
}

}  // namespace

TEST_CASE("registry: a standalone member without a registry section gets harbor-local",
          "[metadata][registry]") {
  TestRoot t;
  auto r = load(t, k_standalone);
  REQUIRE(r);
  const Member& m = r->member;
  REQUIRE(m.registry);
  CHECK(m.registry->kind == RegistryKind::harbor_local);
  CHECK(!m.registry->s3);
  CHECK(runs_harbor(m));
  CHECK(m.registry_host() == "registry.example.example.org");
  CHECK(m.to_json()["registry"]["kind"] == "harbor-local");
}

TEST_CASE("registry: the kind follows registry.s3 when not given", "[metadata][registry]") {
  TestRoot t;
  auto r = load(t, k_standalone +
                       "  registry: {s3: {endpoint: \"https://s3.example.org\", bucket: b, "
                       "access_key: AK123456, secret_key: SK-very-secret}}\n");
  REQUIRE(r);
  CHECK(r->member.registry->kind == RegistryKind::harbor_s3);
  r = load(t, k_standalone + "  registry: {project: builds, quota_gb: 50}\n");
  REQUIRE(r);
  CHECK(r->member.registry->kind == RegistryKind::harbor_local);
  CHECK(r->member.registry->quota_gb == 50);
}

TEST_CASE("registry: external with url and credentials, the password is a secret", "[metadata][registry]") {
  TestRoot t;
  auto r = load(t, k_standalone + R"(  registry:
    kind: external
    url: https://ghcr.io
    username: binder-bot
    password: ghp-registry-SECRET-77
)");
  REQUIRE(r);
  const Member& m = r->member;
  CHECK(m.registry->kind == RegistryKind::external);
  CHECK(!runs_harbor(m));
  CHECK(m.registry_host() == "ghcr.io");
  CHECK(external_image_prefix(*m.registry) == "ghcr.io/binder-bot/binder-");
  bool listed = false;
  for (const auto& [k, v] : m.secrets())
    listed |= k == "registry.password" && v == "ghp-registry-SECRET-77";
  CHECK(listed);
  CHECK(binder::common::log::redact("pw ghp-registry-SECRET-77") == "pw <redacted>");
  auto j = m.to_json(Redact::yes);
  CHECK(j["registry"]["password"] == "<redacted>");
  CHECK(j["registry"]["url"] == "https://ghcr.io");
  CHECK(j.dump().find("ghp-registry-SECRET-77") == std::string::npos);
  CHECK_FALSE(j["registry"].contains("project"));

  SECTION("an explicit image prefix; Docker Hub's hosts become docker.io") {
    r = load(t, k_standalone +
                    "  registry: {kind: external, url: \"https://quay.io\", username: u, "
                    "password: p, image_prefix: quay.io/org/binder-}\n");
    REQUIRE(r);
    CHECK(external_image_prefix(*r->member.registry) == "quay.io/org/binder-");
    r = load(t, k_standalone +
                    "  registry: {kind: external, url: \"https://index.docker.io/v1/\", "
                    "username: someone, password: p}\n");
    REQUIRE(r);
    CHECK(external_image_prefix(*r->member.registry) == "docker.io/someone/binder-");
  }
}

TEST_CASE("registry: validation errors name file, line and key", "[metadata][registry]") {
  TestRoot t;
  SECTION("unknown kind, with a suggestion") {
    auto e = registry_load_error(t, k_standalone + "  registry: {kind: harbor-locl}\n");
    CHECK(e.find("member.yaml:6:") != std::string::npos);
    CHECK(e.find("binder_member.registry.kind: expected one of 'harbor-s3', 'harbor-local', "
                 "'external', got 'harbor-locl', did you mean 'harbor-local'?") != std::string::npos);
  }
  SECTION("external without url, username or password") {
    auto e = registry_load_error(t, k_standalone + "  registry:\n    kind: external\n");
    CHECK(e.find("member.yaml:6:") != std::string::npos);
    for (const char* key : {"registry.url", "registry.username", "registry.password"}) {
      INFO(key);
      CHECK(e.find(std::string("binder_member.") + key + ": required key is missing") != std::string::npos);
    }
  }
  SECTION("external with an empty password and a bad url") {
    auto e = registry_load_error(t, k_standalone +
                                        "  registry:\n    kind: external\n    url: ghcr.io\n"
                                        "    username: u\n    password: \"\"\n");
    CHECK(e.find("member.yaml:8:") != std::string::npos);
    CHECK(e.find("binder_member.registry.url: 'ghcr.io' is not an http(s) URL") != std::string::npos);
    CHECK(e.find("member.yaml:10:") != std::string::npos);
    CHECK(e.find("binder_member.registry.password: must not be empty") != std::string::npos);
  }
  SECTION("keys of the other family") {
    auto e = registry_load_error(t, k_standalone +
                                        "  registry:\n    kind: external\n    url: https://ghcr.io\n"
                                        "    username: u\n    password: p\n    project: x\n");
    CHECK(e.find("member.yaml:11:") != std::string::npos);
    CHECK(e.find("binder_member.registry.project: not used with registry.kind external") !=
          std::string::npos);
    e = registry_load_error(t,
                            k_standalone + "  registry:\n    kind: harbor-local\n    url: https://ghcr.io\n");
    CHECK(e.find("binder_member.registry.url: not used with registry.kind harbor-local") !=
          std::string::npos);
  }
  SECTION("harbor-s3 without s3, harbor-local with s3") {
    auto e = registry_load_error(t, k_standalone + "  registry: {kind: harbor-s3}\n");
    CHECK(e.find("binder_member.registry.s3: required with registry.kind harbor-s3") != std::string::npos);
    e = registry_load_error(t, k_standalone +
                                   "  registry:\n    kind: harbor-local\n    s3: {endpoint: "
                                   "\"https://s3.example.org\", bucket: b, access_key: a, secret_key: s}\n");
    CHECK(e.find("member.yaml:8:") != std::string::npos);
    CHECK(e.find("binder_member.registry.s3: not used with registry.kind harbor-local") != std::string::npos);
  }
  SECTION("s3 secrets missing") {
    auto e =
        registry_load_error(t, k_standalone +
                                   "  registry: {kind: harbor-s3, s3: {endpoint: \"https://s3.example.org\", "
                                   "bucket: b}}\n");
    CHECK(e.find("binder_member.registry.s3.access_key: required key is missing") != std::string::npos);
    CHECK(e.find("binder_member.registry.s3.secret_key: required key is missing") != std::string::npos);
  }
  SECTION("federation members keep their Harbor") {
    auto e = registry_load_error(t, k_federation +
                                        "  registry: {kind: external, url: \"https://ghcr.io\", username: u, "
                                        "password: p}\n");
    CHECK(e.find("binder_member.registry.kind: external is for standalone members") != std::string::npos);
    e = registry_load_error(t, k_federation);
    CHECK(e.find("binder_member.registry: required in federation mode") != std::string::npos);
    // Unchanged: a federation registry section without s3 (the smoke boot's) still loads.
    auto r = load(t, k_federation + "  registry: {project: x}\n");
    REQUIRE(r);
    CHECK(r->member.registry->kind == RegistryKind::harbor_local);
  }
}
