// Chart values per registry.kind (harbor-s3, harbor-local, external) and the registry mirror
// reaching the build daemon (dind --registry-mirror).
#include <algorithm>

#include <catch2/catch.hpp>

#include "firstboot/render/artifacts.hpp"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/mybinder_files.hpp"
#include "support/firstboot/render_fixtures.hpp"

using namespace binder::firstboot;
using namespace binder::firstboot::render;
using namespace binder::firstboot::render::fixtures;
using nlohmann::json;

namespace {

Member standalone(RegistryKind kind) {
  Member m = example_member(Mode::standalone);
  RegistryConfig r;
  r.kind = kind;
  if (kind == RegistryKind::harbor_s3) {
    r.s3 = S3Config{"https://s3.example.org", "eu", "bucket", "AKIA-SECRET-2", "s3-SECRET-3"};
  } else if (kind == RegistryKind::external) {
    r.url = "https://ghcr.io";
    r.username = "binder-bot";
    r.password = "ghp-SECRET-registry-9";
  }
  m.registry = r;
  return m;
}

}  // namespace

TEST_CASE("registry values: harbor-s3 keeps images in the bucket", "[render][registry]") {
  auto m = standalone(RegistryKind::harbor_s3);
  auto v = harbor_values(m, size_machine(machine(16, 8), m), SecretsView::from_member(m));
  CHECK(v.values["persistence"]["imageChartStorage"]["type"] == "s3");
  CHECK(v.values["persistence"]["imageChartStorage"]["s3"]["bucket"] == "bucket");
  CHECK(v.secret_values["persistence"]["imageChartStorage"]["s3"]["secretkey"] == "s3-SECRET-3");
  CHECK(v.values.dump().find("SECRET") == std::string::npos);
}

TEST_CASE("registry values: harbor-local keeps images on the registry volume", "[render][registry]") {
  auto m = standalone(RegistryKind::harbor_local);
  for (bool disk : {false, true}) {
    auto v = harbor_values(m, size_machine(machine(16, 8, disk), m), SecretsView::from_member(m));
    const json& st = v.values["persistence"]["imageChartStorage"];
    CHECK(st["type"] == "filesystem");
    CHECK(st["filesystem"]["rootdirectory"] == "/storage");
    CHECK_FALSE(st.contains("s3"));
    CHECK(v.values["persistence"]["enabled"] == true);
    CHECK_FALSE(v.secret_values.contains("persistence"));
  }
  auto b = binderhub_values(m, size_machine(machine(16, 8), m), SecretsView{});
  CHECK(b.values["registry"]["url"] == "https://registry.example.mybinder.org");
  CHECK(b.secret_values["registry"]["username"] == "robot$mybinder-builds+example-builder");
}

TEST_CASE("registry values: external pushes with the operator's credentials", "[render][registry]") {
  auto m = standalone(RegistryKind::external);
  auto v = binderhub_values(m, size_machine(machine(16, 8), m), SecretsView::from_member(m));
  CHECK(v.values["registry"]["url"] == "https://ghcr.io");
  CHECK(v.values["config"]["BinderHub"]["image_prefix"] == "ghcr.io/binder-bot/binder-");
  CHECK(v.values["config"]["BinderHub"]["use_registry"] == true);
  CHECK(v.values["jupyterhub"]["imagePullSecret"]["registry"] == "https://ghcr.io");
  CHECK(v.secret_values["registry"] ==
        json({{"username", "binder-bot"}, {"password", "ghp-SECRET-registry-9"}}));
  CHECK(v.secret_values["jupyterhub"]["imagePullSecret"]["username"] == "binder-bot");
  CHECK(v.secret_values["jupyterhub"]["imagePullSecret"]["password"] == "ghp-SECRET-registry-9");
  // The password only ever in the secret part; no Harbor robot anywhere.
  CHECK(v.values.dump().find("SECRET") == std::string::npos);
  CHECK(v.secret_values.dump().find("robot$") == std::string::npos);

  SECTION("without the secrets the password is a placeholder (render)") {
    auto r = binderhub_values(m, size_machine(machine(16, 8), m), SecretsView{});
    CHECK(r.secret_values["registry"]["password"] == "<secret:registry-password>");
  }
  SECTION("an explicit image prefix") {
    m.registry->image_prefix = "ghcr.io/my-org/b-";
    auto r = binderhub_values(m, size_machine(machine(16, 8), m), SecretsView{});
    CHECK(r.values["config"]["BinderHub"]["image_prefix"] == "ghcr.io/my-org/b-");
  }
}

TEST_CASE("registry values: node.registries mirrors reach the build daemon", "[render][registry]") {
  auto m = standalone(RegistryKind::harbor_local);
  auto args = [&] {
    return binderhub_values(m, size_machine(machine(16, 8), m), SecretsView{})
        .values["dind"]["daemonset"]["extraArgs"];
  };
  CHECK(args() == json::array({"--max-concurrent-uploads=32", "--mtu=1450"}));
  m.node.registry_mirrors["*"] = {"https://mirror.all.example.org"};
  CHECK(args() == json::array({"--max-concurrent-uploads=32", "--mtu=1450",
                               "--registry-mirror=https://mirror.all.example.org"}));
  m.node.registry_mirrors["docker.io"] = {"https://hub-mirror.example.org", "http://10.0.0.5:5000"};
  m.node.registry_mirrors["quay.io"] = {"https://quay-mirror.example.org"};
  CHECK(args() == json::array({"--max-concurrent-uploads=32", "--mtu=1450",
                               "--registry-mirror=https://hub-mirror.example.org",
                               "--registry-mirror=http://10.0.0.5:5000"}));
  CHECK(dind_registry_mirrors(m).size() == 2);
}

TEST_CASE("registry values: an external-registry member renders no Harbor artifacts", "[render][registry]") {
  auto m = standalone(RegistryKind::external);
  auto names = artifact_names(m);
  for (const char* harbor :
       {"helmchart-harbor", "values-harbor", "secret-values-harbor", "harbor-robots", "harbor-gc"}) {
    INFO(harbor);
    CHECK(std::find(names.begin(), names.end(), harbor) == names.end());
  }
  CHECK(std::find(names.begin(), names.end(), "values-binderhub") != names.end());
  auto r = render_artifact("values-harbor", m, machine(16, 8), SecretsView{}, RenderExtras{});
  REQUIRE(!r);
  CHECK(r.error().message.find("registry.kind external") != std::string::npos);
  auto all = render_artifact("all", m, machine(16, 8), SecretsView{}, RenderExtras{});
  REQUIRE(all);
  CHECK(all->find("ghcr.io/binder-bot/binder-") != std::string::npos);
  CHECK(all->find("<secret:registry-password>") != std::string::npos);
  CHECK(all->find("ghp-SECRET") == std::string::npos);
  // A Harbor member still has them.
  auto local = standalone(RegistryKind::harbor_local);
  auto local_names = artifact_names(local);
  CHECK(std::find(local_names.begin(), local_names.end(), "values-harbor") != local_names.end());
}

TEST_CASE("registry values: a federation member's mirrors reach mybinder's dind too", "[render][registry]") {
  auto m = example_member();
  auto size = size_machine(machine(16, 8), m);
  // No mirrors: mybinder's own dind arguments stay untouched.
  CHECK_FALSE(mybinder_config(m, size)["binderhub"]["dind"].contains("daemonset"));
  m.node.registry_mirrors["docker.io"] = {"https://hub-mirror.example.org"};
  CHECK(mybinder_config(m, size)["binderhub"]["dind"]["daemonset"]["extraArgs"] ==
        json::array({"--max-concurrent-uploads=32", "--mtu=1450",
                     "--registry-mirror=https://hub-mirror.example.org"}));
}
