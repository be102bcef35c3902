// A standalone member with each registry.kind through the fakes (Harbor, Kubernetes, Cloudflare,
// S3): harbor-s3 and harbor-local install Harbor (S3 or filesystem storage) and its robots, which
// BinderHub pushes with; external installs no Harbor, sends Harbor nothing and gives BinderHub the
// operator's credentials, only in the values Secret. The dind mirror reaches the deployed values.
#include "common/log.hpp"
#include "firstboot/k3s/base64.hpp"
#include "firstboot/render/yaml.hpp"
#include "integration/federation/fixture.hpp"

using namespace binder::federation_test;
namespace fs = binder::common::fs;
using nlohmann::json;

namespace {

fb::Member member_with(fb::RegistryKind kind) {
  fb::Member m = test_member(fb::Mode::standalone);
  m.registry->kind = kind;
  if (kind != fb::RegistryKind::harbor_s3)
    m.registry->s3.reset();
  if (kind == fb::RegistryKind::external) {
    m.registry = fb::RegistryConfig{};
    m.registry->kind = fb::RegistryKind::external;
    m.registry->url = "https://ghcr.io";
    m.registry->username = "binder-bot";
    m.registry->password = "ghp-registry-SECRET-4242";
  }
  m.node.registry_mirrors["docker.io"] = {"https://hub-mirror.example.org"};
  return m;
}

json registry_objects(const Fakes& f) { return f.kube.state()["objects"]; }

// The values a HelmChart deploys: valuesContent, and its values Secret decoded.
json values_of(const json& objs, const std::string& chart) {
  auto spec = objs["helm.cattle.io/helmcharts/kube-system/" + chart]["spec"];
  return binder::firstboot::render::from_yaml(spec["valuesContent"].get<std::string>(), chart).value();
}
json secret_values_of(const json& objs, const std::string& chart) {
  auto data = objs["/secrets/kube-system/" + chart + "-values"]["data"]["values.yaml"].get<std::string>();
  return binder::firstboot::render::from_yaml(fb::base64_decode(data).value(), chart + "-values").value();
}

std::vector<std::string> helmcharts(const json& objs) {
  std::vector<std::string> out;
  for (const auto& [key, _] : objs.items()) {
    if (key.starts_with("helm.cattle.io/helmcharts/kube-system/"))
      out.push_back(key.substr(38));
  }
  return out;
}

}  // namespace

TEST_CASE("registry: standalone harbor-s3 and harbor-local install Harbor and push with its robot",
          "[federation][registry]") {
  for (auto kind : {fb::RegistryKind::harbor_s3, fb::RegistryKind::harbor_local}) {
    INFO(fb::to_string(kind));
    Fakes fakes;
    auto root = make_root(fakes);
    Run run(root.path(), fakes, member_with(kind), fakes.options());
    auto r = run.run();
    INFO((r ? std::string("ok") : r.error().to_string()));
    REQUIRE(r);
    auto objs = registry_objects(fakes);
    CHECK(helmcharts(objs) ==
          std::vector<std::string>{"binder-traefik", "binderhub", "cert-manager", "harbor"});
    auto harbor_values = values_of(objs, "harbor");
    const json& storage = harbor_values["persistence"]["imageChartStorage"];
    CHECK(storage["type"] == (kind == fb::RegistryKind::harbor_s3 ? "s3" : "filesystem"));
    auto harbor = fakes.harbor.state();
    CHECK(harbor["robots"].size() == 2);
    REQUIRE(harbor["gc_schedule"].is_object());
    fb::SystemClock clock;
    auto journal = *fb::Journal::open(root.path() / "var/lib/binder-firstboot/journal", clock);
    auto bh = secret_values_of(objs, "binderhub");
    CHECK(bh["registry"]["username"] == "robot$mybinder-builds+example-builder");
    CHECK(bh["registry"]["password"] == *journal.get("secrets.harbor-builder-robot-secret"));
    auto bh_values = values_of(objs, "binderhub");
    CHECK(bh_values["registry"]["url"] == "https://registry.example.mybinder.org");
    CHECK(bh_values["dind"]["daemonset"]["extraArgs"].back() ==
          "--registry-mirror=https://hub-mirror.example.org");
    fakes.check_no_violations();
  }
}

TEST_CASE("registry: standalone external installs no Harbor and pushes with the operator's credentials",
          "[federation][registry]") {
  Fakes fakes;
  auto root = make_root(fakes);
  auto m = member_with(fb::RegistryKind::external);
  binder::common::log::add_secret(m.registry->password);
  {
    Run run(root.path(), fakes, m, fakes.options());
    auto r = run.run();
    INFO((r ? std::string("ok") : r.error().to_string()));
    REQUIRE(r);
  }
  // Harbor: not a single request. Kubernetes: no Harbor release.
  CHECK(fakes.harbor.requests().empty());
  auto objs = registry_objects(fakes);
  CHECK(helmcharts(objs) == std::vector<std::string>{"binder-traefik", "binderhub", "cert-manager"});
  CHECK_FALSE(objs.contains("/secrets/kube-system/harbor-values"));

  auto values = values_of(objs, "binderhub");
  CHECK(values["registry"]["url"] == "https://ghcr.io");
  CHECK(values["config"]["BinderHub"]["image_prefix"] == "ghcr.io/binder-bot/binder-");
  CHECK(values["jupyterhub"]["imagePullSecret"]["registry"] == "https://ghcr.io");
  CHECK(values["dind"]["daemonset"]["extraArgs"].back() ==
        "--registry-mirror=https://hub-mirror.example.org");
  auto secret = secret_values_of(objs, "binderhub");
  CHECK(secret["registry"]["username"] == "binder-bot");
  CHECK(secret["registry"]["password"] == "ghp-registry-SECRET-4242");
  CHECK(secret["jupyterhub"]["imagePullSecret"]["password"] == "ghp-registry-SECRET-4242");
  // The password only in the values Secret: not in the HelmChart, the journal, the exports.
  CHECK(objs.dump().find("ghp-registry-SECRET-4242") == std::string::npos);  // Secret data is base64
  auto journal_text = *fs::read_file(root.path() / "var/lib/binder-firstboot/journal");
  CHECK(journal_text.find("ghp-registry-SECRET-4242") == std::string::npos);
  auto summary = *fs::read_file(root.path() / "var/lib/binder-firstboot/export/summary.txt");
  CHECK_THAT(summary, Catch::Contains("https://ghcr.io (external, user 'binder-bot'"));
  CHECK(summary.find("robot$") == std::string::npos);
  CHECK(summary.find("ghp-registry-SECRET-4242") == std::string::npos);
  fakes.check_no_violations();

  // Second boot: everything done, nothing sent.
  int writes = fakes.writes();
  Run again(root.path(), fakes, m, fakes.options());
  auto r = again.run();
  REQUIRE(r);
  CHECK(r->skipped == r->total);
  CHECK(fakes.writes() == writes);
  CHECK(fakes.harbor.requests().empty());
}
