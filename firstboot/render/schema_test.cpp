// Every rendered values document validated the way Helm would (chart defaults + valuesContent +
// valuesSecrets, checked against the chart's own schema from shared/reference/charts), every
// HelmChart against the k3s CRD schema, every values Secret against the Kubernetes Secret
// definition, for several machine sizes and both modes. Runs tests/support/validate_schema.py.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/helmchart.hpp"
#include "firstboot/render/member_overrides.hpp"
#include "firstboot/render/mybinder_files.hpp"
#include "firstboot/render/mybinder_release.hpp"
#include "firstboot/render/yaml.hpp"
#include "support/firstboot/render_fixtures.hpp"
#include "support/test_ca.hpp"

using namespace binder::firstboot;
using namespace binder::firstboot::render;
using namespace binder::firstboot::render::fixtures;
using nlohmann::json;

namespace {

const std::string k_charts = std::string(BINDER_SHARED_DIR) + "/reference/charts";
const std::string k_apis = std::string(BINDER_SHARED_DIR) + "/reference/apis";

// Writes `doc` as YAML to a temp file and runs validate_schema.py with `args` + the file.
void expect_valid(const json& doc, std::vector<std::string> args, const std::string& what) {
  std::string path = "/tmp/binder-render-schema-" + std::to_string(getpid()) + ".yaml";
  std::ofstream(path) << to_yaml(doc);
  std::vector<std::string> argv = {BINDER_PYTHON,
                                   std::string(BINDER_TESTS_DIR) + "/support/validate_schema.py"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(path);
  std::string out, err;
  int rc = binder::test::run_capture(argv, &out, &err);
  INFO(what << ":\n" << out << err);
  CHECK(rc == 0);
  std::remove(path.c_str());
}

struct Case {
  const char* label;
  double ram;
  int cpus;
  bool disk;
  Mode mode;
};

const Case k_cases[] = {{"4 GiB/2 CPU standalone", 4, 2, false, Mode::standalone},
                        {"16 GiB/8 CPU federation", 16, 8, false, Mode::federation},
                        {"92 GiB/24 CPU + disk", 92, 24, true, Mode::federation},
                        {"192 GiB/48 CPU + disk", 192, 48, true, Mode::federation}};

json helm_view(const ChartValues& v) { return deep_merge(v.values, v.secret_values); }

}  // namespace

TEST_CASE("schema: binderhub and its jupyterhub values satisfy the charts' schemas", "[render][schema]") {
  for (const auto& c : k_cases) {
    auto m = example_member(c.mode);
    m.binderhub.values = json::parse(R"({"config": {"BinderHub": {"banner_message": "Welcome"}},
                                         "jupyterhub": {"singleuser": {"defaultUrl": "/lab"}}})");
    auto doc = helm_view(binderhub_values(m, size_machine(machine(c.ram, c.cpus, c.disk), m), SecretsView{}));
    const std::string bh = k_charts + "/binderhub/main-b9fad99/";
    expect_valid(doc, {"values", "--schema", bh + "schema.yaml", "--defaults", bh + "values.yaml"},
                 std::string("binderhub ") + c.label);
    const std::string jh = k_charts + "/jupyterhub/4.2.0/";
    expect_valid(doc,
                 {"values", "--schema", jh + "values.schema.yaml", "--defaults", bh + "values.yaml",
                  "--subtree", "jupyterhub", "--subchart-defaults", jh + "values.yaml"},
                 std::string("jupyterhub ") + c.label);
  }
}

TEST_CASE("schema: traefik and cert-manager values satisfy the charts' schemas", "[render][schema]") {
  for (const auto& c : k_cases) {
    auto m = example_member(c.mode);
    auto size = size_machine(machine(c.ram, c.cpus, c.disk), m);
    const std::string tr = k_charts + "/traefik/v41.1.1/";
    expect_valid(helm_view(traefik_values(m, size)),
                 {"values", "--schema", tr + "values.schema.json", "--defaults", tr + "values.yaml"},
                 std::string("traefik ") + c.label);
    const std::string cm = k_charts + "/cert-manager/v1.20.2/";
    expect_valid(helm_view(cert_manager_values(m)),
                 {"values", "--schema", cm + "values.schema.json", "--defaults", cm + "values.yaml"},
                 "cert-manager");
  }
}

TEST_CASE("schema: harbor values only set keys harbor-helm 1.18.1 has", "[render][schema]") {
  for (bool s3 : {true, false}) {
    auto m = example_member();
    if (!s3)
      m.registry->s3.reset();
    auto doc = helm_view(harbor_values(m, size_machine(machine(32, 8), m), SecretsView{}));
    expect_valid(doc,
                 {"keys", "--defaults", k_charts + "/harbor/v1.18.1/values.yaml", "--free",
                  "expose.ingress.annotations", "--free", "core.serviceAnnotations", "--free",
                  "persistence.imageChartStorage.s3"},
                 s3 ? "harbor with s3" : "harbor on local storage");
  }
}

TEST_CASE("schema: HelmChart manifests and values Secrets are valid Kubernetes objects", "[render][schema]") {
  auto m = example_member();
  auto size = size_machine(machine(16, 4, true), m);
  std::vector<std::pair<ChartRef, ChartValues>> charts = {
      {cert_manager_chart(), cert_manager_values(m)},
      {traefik_chart(), traefik_values(m, size)},
      {harbor_chart(m), harbor_values(m, size, SecretsView{})},
      {binderhub_chart(m), binderhub_values(m, size, SecretsView{})}};
  for (const auto& [ref, values] : charts) {
    expect_valid(helmchart_manifest(ref, values.values),
                 {"crd", "--crd", k_apis + "/k3s-helmchart-crd.yaml", "--kind", "HelmChart"},
                 "HelmChart " + ref.name);
    if (!ref.values_secret.empty()) {
      expect_valid(values_secret_manifest(ref, values.secret_values),
                   {"swagger", "--spec", k_apis + "/k8s-core-subset.json", "--definition",
                    "io.k8s.api.core.v1.Secret"},
                   "Secret " + ref.values_secret);
    }
  }
}

TEST_CASE("schema: the mybinder member files fit mybinder's chart and its sub-charts", "[render][schema]") {
  for (const auto& c : k_cases) {
    if (c.mode != Mode::federation)
      continue;
    for (bool s3 : {true, false}) {
      auto m = example_member();
      if (!s3)
        m.registry->s3.reset();
      auto size = size_machine(machine(c.ram, c.cpus, c.disk), m);
      // deploy.py layers config/<name>.yaml then secrets/config/<name>.yaml over mybinder/values.yaml
      json doc = deep_merge(mybinder_config(m, size), mybinder_secrets(m, SecretsView{}));
      const std::string mb = std::string(BINDER_SHARED_DIR) + "/reference/mybinder/values.yaml";
      const std::string bh = k_charts + "/binderhub/main-b9fad99/";
      expect_valid(doc,
                   {"values", "--schema", bh + "schema.yaml", "--defaults", mb, "--subtree", "binderhub",
                    "--subchart-defaults", bh + "values.yaml"},
                   std::string("mybinder binderhub ") + c.label);
      json harbor = doc["harbor"];
      harbor.erase("enabled");  // the meta-chart's dependency condition, not a harbor value
      expect_valid(harbor,
                   {"keys", "--defaults", k_charts + "/harbor/v1.18.1/values.yaml", "--free",
                    "persistence.imageChartStorage.s3"},
                   s3 ? "mybinder harbor with s3" : "mybinder harbor on local storage");
    }
  }
}

namespace {

// mybinder/values.yaml from the pinned mybinder.org-deploy archive in reference/mirror, as data.
json mirror_mybinder_values() {
  const std::string commit = "95860dbcba2031b930020dbd856e76cd37ba34c8";
  const std::string archive =
      std::string(BINDER_SHARED_DIR) + "/reference/mirror/mybinder.org-deploy-" + commit + ".tar.gz";
  std::string out, err;
  int rc = binder::test::run_capture(
      {"tar", "-xzOf", archive, "mybinder.org-deploy-" + commit + "/mybinder/values.yaml"}, &out, &err);
  INFO(err);
  REQUIRE(rc == 0);
  auto doc = from_yaml(out, "mybinder/values.yaml");
  REQUIRE(doc);
  return *doc;
}

}  // namespace

TEST_CASE("schema: the deployed mybinder release's binderhub part fits the binderhub and z2jh schemas",
          "[render][schema][release]") {
  json chart_defaults = mirror_mybinder_values();
  REQUIRE(chart_defaults.contains("binderhub"));
  for (const auto& c : k_cases) {
    if (c.mode != Mode::federation)
      continue;
    auto m = example_member();
    m.cluster_name = "example-ovh";
    auto release = mybinder_release(m, size_machine(machine(c.ram, c.cpus, c.disk), m), SecretsView{},
                                    pinned_image_charts());
    json hc = mybinder_helmchart(release);
    json deployed =
        deep_merge(deep_merge(*from_yaml(hc["spec"]["valuesContent"].get<std::string>(), "content"),
                              *from_yaml(release.secrets_text, "secrets")),
                   member_overrides_values());
    // Helm coalesces the meta-chart's defaults under the layered values; binderhub sees the result.
    json binderhub = deep_merge(chart_defaults["binderhub"], deployed["binderhub"]);
    const std::string bh = k_charts + "/binderhub/main-b9fad99/";
    expect_valid(binderhub, {"values", "--schema", bh + "schema.yaml", "--defaults", bh + "values.yaml"},
                 std::string("mybinder release binderhub ") + c.label);
    const std::string jh = k_charts + "/jupyterhub/4.2.0/";
    expect_valid(binderhub,
                 {"values", "--schema", jh + "values.schema.yaml", "--defaults", bh + "values.yaml",
                  "--subtree", "jupyterhub", "--subchart-defaults", jh + "values.yaml"},
                 std::string("mybinder release jupyterhub ") + c.label);
    expect_valid(hc, {"crd", "--crd", k_apis + "/k3s-helmchart-crd.yaml", "--kind", "HelmChart"},
                 "HelmChart " + release.chart.name);
    expect_valid(
        mybinder_values_secret(release),
        {"swagger", "--spec", k_apis + "/k8s-core-subset.json", "--definition", "io.k8s.api.core.v1.Secret"},
        "Secret " + release.chart.values_secret);
  }
  expect_valid(image_cert_manager_helmchart(pinned_image_charts()),
               {"crd", "--crd", k_apis + "/k3s-helmchart-crd.yaml", "--kind", "HelmChart"},
               "HelmChart cert-manager");
  const std::string cm = k_charts + "/cert-manager/v1.20.2/";
  expect_valid(pinned_image_charts().cert_manager_values,
               {"values", "--schema", cm + "values.schema.json", "--defaults", cm + "values.yaml"},
               "cert-manager (config/cert-manager.yaml)");
}
