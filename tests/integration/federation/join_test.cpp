// The federation join end to end against the fakes: it converges, a second run (and every step
// applied again) sends no write, the exports are 0600 and hold what mybinder needs, standalone
// members get no mybinder files.
#include <sys/stat.h>

#include <algorithm>

#include "common/log.hpp"
#include "firstboot/k3s/base64.hpp"
#include "integration/federation/fixture.hpp"

using namespace binder::federation_test;
namespace fs = binder::common::fs;
using nlohmann::json;

namespace {

mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("federation: the whole join converges, then a second run changes nothing remotely",
          "[federation]") {
  Fakes fakes;
  auto root = make_root(fakes);
  auto options = fakes.options();
  {
    Run run(root.path(), fakes, test_member(), options);
    auto r = run.run();
    INFO((r ? std::string("ok") : r.error().to_string()));
    REQUIRE(r);
    CHECK(r->total == 8);  // 7 + readiness
  }
  auto cf = fakes.cloudflare.state()["zones"][0]["records"];
  CHECK(cf.size() == 2);
  auto harbor = fakes.harbor.state();
  CHECK(harbor["projects"].size() == 1);
  CHECK(harbor["robots"].size() == 2);
  CHECK(harbor["retentions"].size() == 1);
  // The GC schedule real members have.
  REQUIRE(harbor["gc_schedule"].is_object());
  CHECK(harbor["gc_schedule"]["schedule"]["cron"] == "0 0 7 * * 0");
  CHECK(json::parse(harbor["gc_schedule"]["job_parameters"].get<std::string>())["delete_untagged"] == true);
  // Exactly two HelmCharts: cert-manager and the mybinder release; the CRDs went first.
  auto objects = fakes.kube.state()["objects"];
  std::vector<std::string> charts;
  for (const auto& [key, obj] : objects.items()) {
    if (key.starts_with("helm.cattle.io/helmcharts/"))
      charts.push_back(key);
  }
  CHECK(charts == std::vector<std::string>{"helm.cattle.io/helmcharts/kube-system/cert-manager",
                                           "helm.cattle.io/helmcharts/kube-system/example"});
  CHECK(objects.contains("apiextensions.k8s.io/customresourcedefinitions//clusterissuers.cert-manager.io"));
  CHECK(objects.contains("apps/deployments/example/example-harbor-core"));
  auto release = objects["helm.cattle.io/helmcharts/kube-system/example"]["spec"];
  CHECK(release["targetNamespace"] == "example");
  CHECK(release["set"]["minesweeper.enabled"] == "false");
  fakes.check_no_violations();

  // Robot secrets in Harbor are the journaled ones.
  fb::SystemClock clock;
  auto journal = *fb::Journal::open(root.path() / "var/lib/binder-firstboot/journal", clock);
  auto builder_secret = journal.get("secrets.harbor-builder-robot-secret");
  REQUIRE(builder_secret);
  bool found = false;
  for (const auto& [id, robot] : harbor["robots"].items()) {
    if (robot["name"] == "robot$mybinder-builds+example-builder") {
      found = true;
      CHECK(robot["secret"] == *builder_secret);
    }
  }
  CHECK(found);

  // Exports.
  auto dir = root.path() / "var/lib/binder-firstboot/export";
  for (const char* f :
       {"example-kubeconfig.yaml", "config/example.yaml", "secrets/config/example.yaml", "summary.txt"}) {
    INFO(f);
    REQUIRE(std::filesystem::exists(dir / f));
    CHECK(mode_of(dir / f) == 0600);
  }
  auto kubeconfig = *fs::read_file(dir / "example-kubeconfig.yaml");
  CHECK_THAT(kubeconfig, Catch::Contains("203.0.113.7"));
  CHECK_THAT(kubeconfig, Catch::Contains("namespace: example"));
  auto secrets = *fs::read_file(dir / "secrets/config/example.yaml");
  CHECK_THAT(secrets, Catch::Contains(*builder_secret));
  CHECK_THAT(secrets, Catch::Contains(*journal.get("secrets.grafana-admin-password")));
  // The exported files are byte for byte what the release deployed.
  auto values_secret = objects["/secrets/kube-system/example-mybinder-values"];
  CHECK(fb::base64_decode(values_secret["data"]["values.yaml"].get<std::string>()) == secrets);
  CHECK(release["valuesContent"] == *fs::read_file(dir / "config/example.yaml"));
  auto summary = *fs::read_file(dir / "summary.txt");
  CHECK_THAT(summary, Catch::Contains("https://example.mybinder.org"));
  CHECK(summary.find(*builder_secret) == std::string::npos);

  // Second boot: nothing to do, nothing written anywhere.
  int writes = fakes.writes();
  {
    Run again(root.path(), fakes, test_member(), options);
    auto r = again.run();
    REQUIRE(r);
    CHECK(r->skipped == 8);
  }
  CHECK(fakes.writes() == writes);
}

TEST_CASE("federation: every step applied again reports unchanged and sends no write", "[federation]") {
  Fakes fakes;
  auto root = make_root(fakes);
  Run run(root.path(), fakes, test_member(), fakes.options());
  REQUIRE(run.run());
  int writes = fakes.writes();
  for (auto& step : run.steps) {
    INFO("step " << step->id());
    run.env.current_step = std::string(step->id());
    auto outcome = step->apply(run.env);
    REQUIRE(outcome);
    CHECK(*outcome == fb::Outcome::unchanged);
  }
  CHECK(fakes.writes() == writes);
  fakes.check_no_violations();
}

TEST_CASE("federation: a standalone member gets no mybinder files", "[federation]") {
  Fakes fakes;
  auto root = make_root(fakes);
  Run run(root.path(), fakes, test_member(fb::Mode::standalone), fakes.options());
  auto r = run.run();
  INFO((r ? std::string("ok") : r.error().to_string()));
  REQUIRE(r);
  auto dir = root.path() / "var/lib/binder-firstboot/export";
  CHECK(std::filesystem::exists(dir / "example-kubeconfig.yaml"));
  CHECK_FALSE(std::filesystem::exists(dir / "config/example.yaml"));
  CHECK_FALSE(std::filesystem::exists(dir / "secrets/config/example.yaml"));
}

TEST_CASE(
    "federation: a cluster name apart from the DNS label names the release, robots and files, "
    "a donor's GitHub token gets its own values Secret",
    "[federation]") {
  Fakes fakes;
  auto root = make_root(fakes);
  auto member = test_member();
  member.cluster_name = "example-ovh";
  member.binderhub.github_token = "ghp-donor-token-1";  // deployed as its own values Secret
  Run run(root.path(), fakes, member, fakes.options());
  auto r = run.run();
  INFO((r ? std::string("ok") : r.error().to_string()));
  REQUIRE(r);
  auto objects = fakes.kube.state()["objects"];
  CHECK(objects.contains("helm.cattle.io/helmcharts/kube-system/example-ovh"));
  CHECK(objects["helm.cattle.io/helmcharts/kube-system/example-ovh"]["spec"]["targetNamespace"] ==
        "example-ovh");
  CHECK(objects.contains("apps/deployments/example-ovh/example-ovh-harbor-core"));
  CHECK(objects.contains("/secrets/kube-system/example-ovh-member-values"));
  CHECK(objects["helm.cattle.io/helmcharts/kube-system/example-ovh"]["spec"]["valuesSecrets"].size() == 2);
  std::vector<std::string> robots;
  auto harbor = fakes.harbor.state();
  for (const auto& [id, robot] : harbor["robots"].items())
    robots.push_back(robot["name"]);
  std::sort(robots.begin(), robots.end());
  CHECK(robots == std::vector<std::string>{"robot$mybinder-builds+example-ovh-builder",
                                           "robot$mybinder-builds+example-ovh-user-puller"});
  auto dir = root.path() / "var/lib/binder-firstboot/export";
  for (const char* f :
       {"example-ovh-kubeconfig.yaml", "config/example-ovh.yaml", "secrets/config/example-ovh.yaml"}) {
    INFO(f);
    CHECK(std::filesystem::exists(dir / f));
  }
  // Hostnames keep the DNS label; the donor's token is not exported (central has its own).
  CHECK_THAT(*fs::read_file(dir / "config/example-ovh.yaml"), Catch::Contains("hub.example.mybinder.org"));
  CHECK(fs::read_file(dir / "secrets/config/example-ovh.yaml")->find("ghp-donor-token-1") ==
        std::string::npos);
  fakes.check_no_violations();
}
