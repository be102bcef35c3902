// Unit tests of the federation module's pure parts: secret generators, the step order and the
// environment overrides.
#include "firstboot/federation/generate.hpp"

#include <stdlib.h>

#include <catch2/catch.hpp>

#include "firstboot/federation/steps.hpp"

namespace fed = binder::firstboot::federation;

TEST_CASE("federation: htpasswd lines are bcrypt $2b$ and verify") {
  auto line = fed::htpasswd_line("harbor_registry_user", "Pa55word").value();
  CHECK_THAT(line, Catch::StartsWith("harbor_registry_user:$2b$10$"));
  CHECK(line.size() == std::string("harbor_registry_user:").size() + 60);
  CHECK(fed::htpasswd_matches(line, "Pa55word"));
  CHECK_FALSE(fed::htpasswd_matches(line, "pa55word"));
  CHECK(fed::htpasswd_line("u", "Pa55word").value() != fed::htpasswd_line("u", "Pa55word").value());
}

TEST_CASE("federation: the token key and its self-signed certificate match") {
  auto pair = fed::token_keypair("harbor-token-ca").value();
  CHECK_THAT(pair.key_pem, Catch::StartsWith("-----BEGIN RSA PRIVATE KEY-----"));
  CHECK(fed::keypair_matches(pair));
}

TEST_CASE("federation: secrets are journaled under secrets.<name>") {
  CHECK(fed::secret_output_key("harbor-core-secret") == "secrets.harbor-core-secret");
}

TEST_CASE("federation: endpoints, CA and waits can be overridden from the environment") {
  setenv("BINDER_FIRSTBOOT_CLOUDFLARE_API", "https://10.0.2.2:1/client/v4", 1);
  setenv("BINDER_FIRSTBOOT_HARBOR_API", "https://10.0.2.2:2/api/v2.0", 1);
  setenv("BINDER_FIRSTBOOT_CA_FILE", "/etc/binder-image/test/ca.pem", 1);
  setenv("BINDER_FIRSTBOOT_WAIT_SCALE", "0.5", 1);
  auto o = fed::options_from_environment();
  CHECK(o.cloudflare_api == "https://10.0.2.2:1/client/v4");
  CHECK(o.harbor_api == "https://10.0.2.2:2/api/v2.0");
  CHECK(o.http.ca_file == "/etc/binder-image/test/ca.pem");
  CHECK(o.http.also_system_cas);
  CHECK(o.harbor_timeout == std::chrono::minutes(10));
  for (const char* v : {"BINDER_FIRSTBOOT_CLOUDFLARE_API", "BINDER_FIRSTBOOT_HARBOR_API",
                        "BINDER_FIRSTBOOT_CA_FILE", "BINDER_FIRSTBOOT_WAIT_SCALE"}) {
    unsetenv(v);
  }
  auto d = fed::options_from_environment();
  CHECK(d.cloudflare_api == "https://api.cloudflare.com/client/v4");
  CHECK(d.harbor_api.empty());
  CHECK(d.http.ca_file.empty());
}
