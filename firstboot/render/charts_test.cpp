// Chart values: hostnames and registry wiring, metadata values merged last, secrets only in the
// secret part, machine size and the extra disk reflected.
#include "firstboot/render/charts.hpp"

#include <catch2/catch.hpp>

#include "firstboot/render/helmchart.hpp"
#include "firstboot/render/yaml.hpp"
#include "support/firstboot/render_fixtures.hpp"

using namespace binder::firstboot;
using namespace binder::firstboot::render;
using namespace binder::firstboot::render::fixtures;
using nlohmann::json;

TEST_CASE("charts: binderhub values carry hostnames, image prefix and robots", "[render][charts]") {
  auto m = example_member();
  auto v = binderhub_values(m, size_machine(machine(16, 8), m), SecretsView{});
  CHECK(v.values["config"]["BinderHub"]["hub_url"] == "https://hub.example.mybinder.org");
  CHECK(v.values["config"]["BinderHub"]["image_prefix"] ==
        "registry.example.mybinder.org/mybinder-builds/i-");
  CHECK(v.values["config"]["BinderHub"]["badge_base_url"] == "https://mybinder.org");
  CHECK(v.values["ingress"]["hosts"] == json::array({"example.mybinder.org"}));
  CHECK(v.values["jupyterhub"]["ingress"]["hosts"] == json::array({"hub.example.mybinder.org"}));
  CHECK(v.values["registry"]["url"] == "https://registry.example.mybinder.org");
  CHECK(v.values["jupyterhub"]["imagePullSecret"]["registry"] == "registry.example.mybinder.org");
  CHECK(v.secret_values["registry"]["username"] == "robot$mybinder-builds+example-builder");
  CHECK(v.secret_values["registry"]["password"] == "<secret:harbor-builder-robot-secret>");
  CHECK(v.secret_values["jupyterhub"]["imagePullSecret"]["username"] ==
        "robot$mybinder-builds+example-user-puller");
  CHECK_FALSE(v.values["dind"].contains("hostLibDir"));
}

TEST_CASE("charts: the binderhub service is ClusterIP behind the ingress, never a LoadBalancer",
          "[render][charts]") {
  // The chart's default is LoadBalancer on port 80, which on ServiceLB takes host port 80 from the
  // ingress controller; mybinder's values.yaml sets ClusterIP.
  for (Mode mode : {Mode::standalone, Mode::federation}) {
    auto m = example_member(mode);
    auto v = binderhub_values(m, size_machine(machine(16, 8), m), SecretsView{});
    CHECK(v.values["service"]["type"] == "ClusterIP");
    CHECK(v.values["ingress"]["enabled"] == true);
  }
}

TEST_CASE("charts: the extra disk moves dind state to /mnt/disk/dind", "[render][charts]") {
  auto m = example_member();
  auto v = binderhub_values(m, size_machine(machine(16, 8, true), m), SecretsView{});
  CHECK(v.values["dind"]["hostLibDir"] == "/mnt/disk/dind");
}

TEST_CASE("charts: metadata binderhub.values merge last and win over secrets", "[render][charts]") {
  auto m = example_member();
  m.binderhub.values =
      json::parse(R"({"config": {"LaunchQuota": {"total_quota": 7}, "BinderHub": {"banner_message": "hi"}},
                                       "dind": {"resources": null}, "registry": {"username": "someone"}})");
  auto v = binderhub_values(m, size_machine(machine(64, 16), m), SecretsView{});
  CHECK(v.values["config"]["LaunchQuota"]["total_quota"] == 7);
  CHECK(v.values["config"]["BinderHub"]["banner_message"] == "hi");
  CHECK(v.values["config"]["BinderHub"]["hub_url"] == "https://hub.example.mybinder.org");  // kept
  CHECK_FALSE(v.values["dind"].contains("resources"));                                      // null deletes
  CHECK(v.values["registry"]["username"] == "someone");
  CHECK_FALSE(v.secret_values["registry"].contains("username"));
  CHECK(v.secret_values["registry"].contains("password"));
}

TEST_CASE("charts: standalone members have no mybinder badge URL", "[render][charts]") {
  auto m = example_member(Mode::standalone);
  auto v = binderhub_values(m, size_machine(machine(16, 8), m), SecretsView{});
  CHECK_FALSE(v.values["config"]["BinderHub"].contains("badge_base_url"));
}

TEST_CASE("charts: no secret value ever reaches a HelmChart manifest", "[render][charts]") {
  auto m = example_member();
  SecretsView secrets = SecretsView::from_member(m);
  for (auto name :
       {secret::harbor_admin_password, secret::harbor_core_secret, secret::harbor_token_key,
        secret::builder_robot_secret, secret::puller_robot_secret, secret::harbor_registry_htpasswd}) {
    secrets.set(name, "SECRET-" + std::string(name));
  }
  auto size = size_machine(machine(32, 8), m);
  for (const auto& [ref, values] : {std::pair{harbor_chart(m), harbor_values(m, size, secrets)},
                                    std::pair{binderhub_chart(m), binderhub_values(m, size, secrets)}}) {
    std::string manifest = to_yaml(helmchart_manifest(ref, values.values));
    CHECK(manifest.find("SECRET") == std::string::npos);
    CHECK(manifest.find("valuesSecrets") != std::string::npos);
    std::string secret = to_yaml(values_secret_manifest(ref, values.secret_values));
    CHECK(secret.find("SECRET") != std::string::npos);
  }
  auto hv = harbor_values(m, size, secrets);
  CHECK(hv.secret_values["persistence"]["imageChartStorage"]["s3"]["secretkey"] == "s3-SECRET-3");
  CHECK(hv.values["persistence"]["imageChartStorage"]["s3"]["bucket"] == "example-registry");
  CHECK(hv.values["externalURL"] == "https://registry.example.mybinder.org");
}

TEST_CASE("charts: HelmCharts name their chart, pinned version and target namespace", "[render][charts]") {
  auto m = example_member();
  auto hc = helmchart_manifest(binderhub_chart(m), json::object());
  CHECK(hc["spec"]["version"] == "1.0.0-0.dev.git.3983.h383374de");
  CHECK(hc["spec"]["targetNamespace"] == "example");
  CHECK(hc["metadata"]["namespace"] == "kube-system");
  CHECK(helmchart_manifest(harbor_chart(m), json::object())["spec"]["version"] == "1.18.1");
  CHECK(helmchart_manifest(traefik_chart(), json::object())["spec"]["version"] == "41.1.1");
  CHECK(helmchart_manifest(cert_manager_chart(), json::object())["spec"]["version"] == "v1.20.2");
  m.binderhub.chart_version = "1.2.3";
  CHECK(helmchart_manifest(binderhub_chart(m), json::object())["spec"]["version"] == "1.2.3");
}

TEST_CASE("charts: a failed upgrade aborts instead of uninstalling the release", "[render][charts]") {
  // `reinstall` (the controller default) would helm-uninstall Harbor or the hub on a failed upgrade.
  auto m = example_member(Mode::standalone);
  for (const auto& chart : {binderhub_chart(m), harbor_chart(m), traefik_chart(), cert_manager_chart()}) {
    CHECK(helmchart_manifest(chart, json::object())["spec"]["failurePolicy"] == "abort");
    CHECK(helmchart_manifest_text(chart, "a: 1\n", json::object())["spec"]["failurePolicy"] == "abort");
  }
}

TEST_CASE("charts: the ClusterIssuer uses the metadata email and the traefik class", "[render][charts]") {
  auto m = example_member();
  auto ci = cluster_issuer(m);
  CHECK(ci["metadata"]["name"] == "letsencrypt-prod");
  CHECK(ci["spec"]["acme"]["email"] == "ops@example.org");
  CHECK(ci["spec"]["acme"]["solvers"][0]["http01"]["ingress"]["class"] == "traefik");
  m.tls.issuer = "letsencrypt-staging";
  CHECK(cluster_issuer(m)["spec"]["acme"]["server"].get<std::string>().find("staging") != std::string::npos);
}
