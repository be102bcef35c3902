// The artifact table behind `binder-firstboot render`.
#include "firstboot/render/artifacts.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

#include "support/firstboot/render_fixtures.hpp"

using namespace binder::firstboot;
using namespace binder::firstboot::render;
using namespace binder::firstboot::render::fixtures;

TEST_CASE("artifacts: every artifact renders and shows placeholders, not secrets", "[render][artifacts]") {
  auto m = example_member();
  auto f = machine(32, 8, true);
  for (const auto& name : artifact_names(m)) {
    auto out = render_artifact(name, m, f, SecretsView{});
    INFO(name);
    REQUIRE(out);
    CHECK(!out->empty());
    CHECK(out->back() == '\n');
    CHECK(out->find("SECRET") == std::string::npos);  // the fixture's S3 keys and token
  }
  CHECK(render_artifact("mybinder-secrets", m, f, SecretsView{})->find("<secret:harbor-admin-password>") !=
        std::string::npos);
  auto all = render_artifact("all", m, f, SecretsView{});
  REQUIRE(all);
  CHECK(all->find("# ==> mybinder-config <==") != std::string::npos);
}

TEST_CASE("artifacts: standalone members have no mybinder files", "[render][artifacts]") {
  auto m = example_member(Mode::standalone);
  auto names = artifact_names(m);
  CHECK(std::find(names.begin(), names.end(), "mybinder-config") == names.end());
  auto out = render_artifact("mybinder-config", m, machine(8, 4), SecretsView{});
  REQUIRE_FALSE(out);
  CHECK(out.error().code == binder::common::Errc::usage);
  CHECK(render_artifact("all", m, machine(8, 4), SecretsView{})->find("==> mybinder-") == std::string::npos);
}

TEST_CASE("artifacts: an unknown name suggests the closest one", "[render][artifacts]") {
  auto out = render_artifact("helmchart-harbour", example_member(), machine(8, 4), SecretsView{});
  REQUIRE_FALSE(out);
  CHECK(out.error().message.find("did you mean 'helmchart-harbor'") != std::string::npos);
}

TEST_CASE("artifacts: DNS records point X and *.X at the public IP, DNS only", "[render][artifacts]") {
  auto m = example_member();
  auto out = render_artifact("dns-records", m, machine(8, 4, false, "198.51.100.9"), SecretsView{});
  REQUIRE(out);
  auto doc = nlohmann::json::parse(*out);
  CHECK(doc["zone"] == "mybinder.org");
  CHECK(doc["records"][0]["name"] == "example.mybinder.org");
  CHECK(doc["records"][1]["name"] == "*.example.mybinder.org");
  CHECK(doc["records"][1]["content"] == "198.51.100.9");
  CHECK(doc["records"][1]["proxied"] == false);
  m.public_ip = "192.0.2.5";
  CHECK(render_artifact("dns-records", m, machine(8, 4), SecretsView{})->find("192.0.2.5") !=
        std::string::npos);
}

TEST_CASE("artifacts: a standalone member without dns or registry sections still renders",
          "[render][artifacts]") {
  auto m = example_member(Mode::standalone);
  m.dns.reset();
  m.registry.reset();
  for (const auto& name : artifact_names(m)) {
    INFO(name);
    CHECK(render_artifact(name, m, machine(8, 4), SecretsView{}));
  }
  auto values = render_artifact("values-harbor", m, machine(8, 4), SecretsView{});
  CHECK(values->find("type: filesystem") != std::string::npos);
  CHECK(render_artifact("values-binderhub", m, machine(8, 4), SecretsView{})
            ->find("image_prefix: " + m.registry_host() + "/mybinder-builds/i-") != std::string::npos);
}
