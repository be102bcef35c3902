// Federation mode's two HelmCharts: what `render all` shows, and that the deployed values are the
// exported member files layered as deploy.py layers them, apart from the named overrides.
#include "firstboot/render/mybinder_release.hpp"

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "firstboot/render/artifacts.hpp"
#include "firstboot/render/helmchart.hpp"
#include "firstboot/render/member_overrides.hpp"
#include "firstboot/render/mybinder_files.hpp"
#include "firstboot/render/yaml.hpp"
#include "support/firstboot/image_charts_fixture.hpp"
#include "support/firstboot/render_fixtures.hpp"

using namespace binder::firstboot;
using namespace binder::firstboot::render;
using namespace binder::firstboot::render::fixtures;
using nlohmann::json;

namespace {

// Every secret the release carries, known (as on the VM after secrets:generate and harbor:api).
SecretsView full_secrets(const Member& m) {
  SecretsView v = SecretsView::from_member(m);
  int i = 0;
  for (auto name :
       {secret::harbor_admin_password, secret::harbor_secret_key, secret::harbor_core_secret,
        secret::harbor_xsrf_key, secret::harbor_token_key, secret::harbor_token_cert,
        secret::harbor_jobservice_secret, secret::harbor_registry_secret, secret::harbor_registry_password,
        secret::harbor_registry_htpasswd, secret::grafana_admin_password, secret::builder_robot_secret,
        secret::puller_robot_secret}) {
    v.set(name, "SECRET-value-" + std::to_string(++i));
  }
  return v;
}

// Removes the leaf at a dotted path (and parents left empty).
void erase_path(json& doc, const std::string& path) {
  auto dot = path.find('.');
  if (!doc.is_object())
    return;
  if (dot == std::string::npos) {
    doc.erase(path);
    return;
  }
  std::string head = path.substr(0, dot);
  if (!doc.contains(head))
    return;
  erase_path(doc[head], path.substr(dot + 1));
  if (doc[head].is_object() && doc[head].empty())
    doc.erase(head);
}

}  // namespace

TEST_CASE("release: render all for a federation member shows exactly two HelmCharts", "[render][release]") {
  auto m = example_member();
  m.cluster_name = "example-ovh";
  std::string all = *render_artifact("all", m, machine(16, 8), SecretsView{});
  // "# ==> NAME <==" lines start new artifacts; split at them into YAML/JSON documents.
  std::vector<json> charts;
  for (size_t at = 0; (at = all.find("kind: HelmChart\n", at)) != std::string::npos; ++at) {
    size_t start = all.rfind("# ==> ", at);
    size_t end = all.find("# ==> ", at);
    auto doc =
        from_yaml(all.substr(start, end == std::string::npos ? std::string::npos : end - start), "doc");
    REQUIRE(doc);
    charts.push_back(*doc);
  }
  REQUIRE(charts.size() == 2);
  CHECK(charts[0]["metadata"]["name"] == "cert-manager");
  CHECK(charts[0]["spec"]["targetNamespace"] == "cert-manager");
  CHECK(charts[0]["spec"]["chart"] == "https://%{KUBERNETES_API}%/static/charts/cert-manager-v1.20.2.tgz");
  CHECK(charts[1]["metadata"]["name"] == "example-ovh");
  CHECK(charts[1]["metadata"]["namespace"] == "kube-system");
  CHECK(charts[1]["spec"]["targetNamespace"] == "example-ovh");
  CHECK(charts[1]["spec"]["version"] == k_mybinder_chart_version);
  CHECK(charts[1]["spec"]["chart"] == std::string("https://%{KUBERNETES_API}%/static/charts/mybinder-") +
                                          k_mybinder_chart_version + ".tgz");
  CHECK_FALSE(charts[1]["spec"].contains("repo"));
  CHECK(charts[1]["spec"]["valuesSecrets"][0]["name"] == "example-ovh-mybinder-values");
  // No standalone chart, no separate traefik or ClusterIssuer.
  for (const char* gone :
       {"==> helmchart-traefik", "==> helmchart-harbor", "==> helmchart-binderhub", "kind: ClusterIssuer"}) {
    CHECK(all.find(gone) == std::string::npos);
  }
  // Hostnames keep the DNS label; release-named things use the cluster name.
  std::string config = *render_artifact("mybinder-config", m, machine(16, 8), SecretsView{});
  CHECK_THAT(config, Catch::Contains("hub.example.mybinder.org"));
  CHECK_THAT(config, Catch::Contains("projectName: example-ovh"));
  CHECK_THAT(config, Catch::Contains("example-ovh-harbor-registry:8001"));
  CHECK_THAT(*render_artifact("harbor-robots", m, machine(16, 8), SecretsView{}),
             Catch::Contains("example-ovh-builder"));
  CHECK(mybinder_config_path(m) == "config/example-ovh.yaml");
  CHECK(mybinder_deployments(m)[3] == "example-ovh-harbor-core");
  m.cluster_name = "gesis-harbor";  // harbor-helm's fullname keeps a release name holding "harbor"
  CHECK(mybinder_deployments(m)[3] == "gesis-harbor-core");
}

TEST_CASE("release: the image's charts manifest drives the HelmCharts", "[render][release]") {
  auto root = *binder::common::fs::TempDir::create("release-charts");
  write_image_charts(root.path());
  RenderExtras extras;
  extras.charts = *load_image_charts(root.path());
  auto m = example_member();
  auto hc =
      from_yaml(*render_artifact("helmchart-cert-manager", m, machine(8, 4), SecretsView{}, extras), "hc");
  REQUIRE(hc);
  CHECK((*hc)["spec"]["valuesContent"] == fixture_cert_manager_values());
  auto mb = from_yaml(*render_artifact("helmchart-mybinder", m, machine(8, 4), SecretsView{}, extras), "hc");
  REQUIRE(mb);
  CHECK((*mb)["spec"]["version"] == k_fixture_mybinder_version);
}

TEST_CASE(
    "release: deployed values = config/<cluster>.yaml layered with secrets/config/<cluster>.yaml, "
    "apart from the named overrides",
    "[render][release]") {
  for (bool s3 : {true, false}) {
    auto m = example_member();
    if (!s3)
      m.registry->s3.reset();
    m.binderhub.values = json::parse(R"({"config": {"BinderHub": {"banner_message": "Hi"}}})");
    auto size = size_machine(machine(64, 16, true), m);
    auto secrets = full_secrets(m);
    auto release = mybinder_release(m, size, secrets, pinned_image_charts());
    json hc = mybinder_helmchart(release);
    json secret = mybinder_values_secret(release);

    // Byte for byte: what is deployed is the files the member exports.
    CHECK(hc["spec"]["valuesContent"] == release.config_text);
    CHECK(secret["stringData"][k_values_secret_key] == release.secrets_text);
    CHECK(release.config_text == mybinder_file_text(m, mybinder_config(m, size), false));
    CHECK(release.secrets_text == mybinder_file_text(m, mybinder_secrets(m, secrets), true));

    // No secret in the HelmChart (valuesContent or set).
    std::string hc_text = hc.dump();
    CHECK(hc_text.find("SECRET") == std::string::npos);
    CHECK(secret.dump().find("SECRET-value-1") != std::string::npos);

    // As YAML data, layered the helm-controller's way: valuesContent, valuesSecrets, set.
    json content = *from_yaml(hc["spec"]["valuesContent"].get<std::string>(), "valuesContent");
    json secret_values =
        *from_yaml(secret["stringData"][k_values_secret_key].get<std::string>(), "valuesSecrets");
    json set_values = member_overrides_values();
    json deployed = deep_merge(deep_merge(content, secret_values), set_values);

    // deploy.py: -f config/<cluster>.yaml -f secrets/config/<cluster>.yaml
    json exported =
        deep_merge(*from_yaml(release.config_text, "config"), *from_yaml(release.secrets_text, "secrets"));
    json deployed_minus = deployed;
    json exported_minus = exported;
    REQUIRE(hc["spec"]["set"].size() == member_overrides().size());
    for (const auto& o : member_overrides()) {
      INFO(o.key);
      CHECK(hc["spec"]["set"][o.key] == o.value);
      CHECK_FALSE(o.reason.empty());
      erase_path(deployed_minus, o.key);
      erase_path(exported_minus, o.key);
    }
    CHECK(deployed_minus == exported_minus);
    // Harbor's storage over mybinder/values.yaml's default (type s3, s3 {}): the bucket, or the
    // registry's volume for harbor-local, never an s3 type without a bucket.
    const json& storage = deployed["harbor"]["persistence"]["imageChartStorage"];
    if (s3) {
      CHECK(storage["s3"]["bucket"] == "example-registry");
      CHECK_FALSE(storage.contains("type"));  // mybinder's default (s3) stays
    } else {
      CHECK(storage["type"] == "filesystem");
      CHECK(storage["filesystem"]["rootdirectory"] == "/storage");
      CHECK(deployed["harbor"]["persistence"]["enabled"] == true);
      CHECK_FALSE(storage.contains("s3"));
    }
    CHECK(deployed["minesweeper"]["enabled"] == false);
    CHECK(deployed["cryptnono"]["enabled"] == false);
    CHECK(deployed["binderhub"]["config"]["BinderHub"]["banner_message"] == "Hi");
    CHECK(deployed["binderhub"]["registry"]["password"] == "SECRET-value-12");
  }
}

TEST_CASE("release: member overrides are one named list with reasons", "[render][release]") {
  auto out = render_artifact("member-overrides", example_member(), machine(8, 4), SecretsView{});
  REQUIRE(out);
  auto doc = json::parse(*out);
  CHECK(doc["overrides"].size() == member_overrides().size());
  CHECK(doc["central_only"].size() == central_only_values().size());
  CHECK_THAT(*out, Catch::Contains("herorat.py"));
  CHECK_THAT(*out, Catch::Contains("60 requests per hour"));
  auto standalone =
      render_artifact("member-overrides", example_member(Mode::standalone), machine(8, 4), SecretsView{});
  CHECK_FALSE(standalone);
}

TEST_CASE(
    "release: a donor's GitHub token goes into its own values Secret, never the HelmChart or the exports",
    "[render][release]") {
  auto m = example_member();
  m.binderhub.github_token = "ghp-SECRET-donor";
  auto size = size_machine(machine(16, 4), m);
  auto secrets = full_secrets(m);
  auto release = mybinder_release(m, size, secrets, pinned_image_charts());
  json hc = mybinder_helmchart(release);
  REQUIRE(hc["spec"]["valuesSecrets"].size() == 2);
  CHECK(hc["spec"]["valuesSecrets"][0]["name"] == "example-mybinder-values");
  CHECK(hc["spec"]["valuesSecrets"][1]["name"] == "example-member-values");
  CHECK(hc.dump().find("ghp-SECRET-donor") == std::string::npos);
  CHECK(release.config_text.find("ghp-SECRET-donor") == std::string::npos);
  CHECK(release.secrets_text.find("ghp-SECRET-donor") == std::string::npos);
  json donor = mybinder_member_values_secret(release);
  CHECK(donor["metadata"]["name"] == "example-member-values");
  auto values = from_yaml(donor["stringData"][k_values_secret_key].get<std::string>(), "donor");
  REQUIRE(values);
  CHECK((*values)["binderhub"]["config"]["GitHubRepoProvider"]["access_token"] == "ghp-SECRET-donor");
  // Review output shows a placeholder, and no second Secret without a token.
  auto rendered = render_artifact("helmchart-mybinder", m, machine(16, 4), SecretsView{});
  CHECK(rendered->find("ghp-SECRET-donor") == std::string::npos);
  m.binderhub.github_token.clear();
  CHECK(mybinder_helmchart(mybinder_release(m, size, secrets, pinned_image_charts()))["spec"]["valuesSecrets"]
            .size() == 1);
}
