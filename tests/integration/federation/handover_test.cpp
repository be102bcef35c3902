// `binder-firstboot handover` against the fake Kubernetes API (helm-controller semantics of the
// unmanaged annotation, tests/support/fakes/kube.py): every HelmChart the agent created is
// annotated, then deleted; no helm Job runs; the releases' Deployments stay; a crash between
// annotate and delete converges on rerun; a second run is "already handed over" with no write; a
// member that never deployed gets a clear error and nothing changes.
#include "firstboot/federation/handover.hpp"

#include <sys/stat.h>

#include "binder_paths.h"
#include "common/exec.hpp"
#include "firstboot/app/status.hpp"
#include "firstboot/k3s/kube_client.hpp"
#include "firstboot/metadata/load.hpp"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/helmchart.hpp"
#include "firstboot/render/mybinder_files.hpp"
#include "firstboot/render/sizing.hpp"
#include "integration/federation/fixture.hpp"

namespace binder::federation_test {
namespace {

namespace render = fb::render;
using nlohmann::json;

const std::vector<std::string> k_charts = {"cert-manager", "example"};

fb::KubeClient client(const std::filesystem::path& root) {
  auto cfg = fb::load_kubeconfig(root / "etc/rancher/k3s/k3s.yaml");
  REQUIRE(cfg);
  return fb::KubeClient(*cfg);
}

// What the agent leaves behind: member.json, two labelled HelmCharts (cert-manager and the
// member's release) installed by the fake controller, a k3s chart that is not ours, and the
// export files.
void deploy(const std::filesystem::path& root) {
  fb::Member m = test_member();
  REQUIRE(fb::save_member_json(root, m));
  auto kube = client(root);
  for (const auto& [name, chart, ns] : {std::tuple{"cert-manager", "cert-manager", "cert-manager"},
                                        std::tuple{"example", "mybinder", "example"}}) {
    render::ChartRef ref{name, chart, "", "1.0.0", ns, ""};
    REQUIRE(kube.apply(render::helmchart_manifest(ref, {{"x", 1}})));
  }
  // k3s's own kind of chart: no managed-by label, so never handed over.
  json foreign = render::helmchart_manifest(
      render::ChartRef{"traefik-crd", "traefik-crd", "", "1", "kube-system", ""}, json::object());
  foreign["metadata"].erase("labels");
  REQUIRE(kube.apply(foreign));
  fb::SystemClock clock;
  REQUIRE(fb::KubeClient::wait_until(clock, "deployments", 20s, 100ms, [&]() -> common::Result<bool> {
    for (const auto* ns : {"cert-manager", "example", "kube-system"}) {
      TRY_ASSIGN(auto ds, kube.deployments(ns));
      if (ds.empty())
        return false;
      for (const auto& d : ds)
        if (!d.ready)
          return false;
    }
    return true;
  }));
  auto size = render::size_machine(Run::facts(), m);
  render::SecretsView secrets = render::SecretsView::from_member(m);
  auto dir = root / "var/lib/binder-firstboot/export";
  REQUIRE(common::fs::write_file_atomic(
      dir / render::mybinder_config_path(m),
      render::mybinder_file_text(m, render::mybinder_config(m, size), false), 0600));
  REQUIRE(common::fs::write_file_atomic(
      dir / render::mybinder_secrets_path(m),
      render::mybinder_file_text(m, render::mybinder_secrets(m, secrets), true), 0600));
  REQUIRE(common::fs::write_file_atomic(dir / "example-kubeconfig.yaml", "kind: Config\n", 0600));
}

json objects(const Fakes& fakes) { return fakes.kube.state()["objects"]; }
bool has(const json& objs, const std::string& key) { return objs.contains(key); }
std::string chart_key(const std::string& n) { return "helm.cattle.io/helmcharts/kube-system/" + n; }

int count_jobs(const Fakes& fakes, const std::string& action) {
  int n = 0;
  for (const auto& j : fakes.kube.state().value("jobs", json::array()))
    n += j["action"] == action;
  return n;
}

int kube_writes(const Fakes& fakes) {
  int n = 0;
  for (const auto& r : fakes.kube.requests()) {
    std::string m = r.value("method", "");
    n += m != "GET" && m != "HEAD";
  }
  return n;
}

std::string journal_text(const std::filesystem::path& root) {
  auto t = common::fs::read_file_if_exists(root / "var/lib/binder-firstboot/journal");
  return t && *t ? **t : std::string();
}

void check_released_not_uninstalled(const Fakes& fakes) {
  auto objs = objects(fakes);
  for (const auto& n : k_charts)
    CHECK_FALSE(has(objs, chart_key(n)));
  CHECK(has(objs, chart_key("traefik-crd")));
  // The releases' workloads stay.
  for (const auto* d :
       {"apps/deployments/cert-manager/cert-manager", "apps/deployments/cert-manager/cert-manager-webhook",
        "apps/deployments/example/binder", "apps/deployments/example/example-harbor-core"}) {
    INFO(d);
    CHECK(has(objs, d));
  }
  CHECK(count_jobs(fakes, "delete") == 0);
}

}  // namespace

TEST_CASE("handover: annotate, then delete, no helm job, releases stay, rerun changes nothing",
          "[federation][handover]") {
  Fakes fakes;
  auto root = make_root(fakes);
  deploy(root.path());
  int installs = count_jobs(fakes, "install");
  CHECK(installs == 3);
  const std::size_t seen = fakes.kube.requests().size();

  fb::SystemClock clock;
  auto report = fb::federation::run_handover(root.path(), fakes.options(), clock);
  INFO((report ? "" : report.error().to_string()));
  REQUIRE(report);
  CHECK_FALSE(report->already);
  REQUIRE(report->charts.size() == 2);
  for (const auto& c : report->charts) {
    CHECK(c.annotated);
    CHECK(c.deleted);
  }
  check_released_not_uninstalled(fakes);
  CHECK(count_jobs(fakes, "install") == installs);
  fakes.check_no_violations();

  // Each chart got the annotation (PUT) before any chart was deleted.
  std::vector<std::string> seq;
  auto requests = fakes.kube.requests();
  for (std::size_t i = seen; i < requests.size(); ++i) {
    const auto& r = requests[i];
    std::string m = r.value("method", "");
    if (m == "GET")
      continue;
    seq.push_back(m + " " + r.value("path", ""));
    if (m == "PUT") {
      CHECK(r["body"]["metadata"]["annotations"].contains("helmcharts.helm.cattle.io/unmanaged"));
    }
  }
  REQUIRE(seq.size() == 4);
  CHECK(seq[0].starts_with("PUT "));
  CHECK(seq[1].starts_with("PUT "));
  CHECK(seq[2].starts_with("DELETE "));
  CHECK(seq[3].starts_with("DELETE "));

  // The bundle: 0600 files, the patch names the member.
  auto dir = root.path() / "var/lib/binder-firstboot/export/handover";
  for (const auto* f : {"mybinder.org-deploy.patch", "README.md", "secrets/example-kubeconfig.yaml",
                        "secrets/config/example.yaml"}) {
    INFO(f);
    struct stat st {};
    REQUIRE(::stat((dir / f).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  auto patch = common::fs::read_file(dir / "mybinder.org-deploy.patch");
  REQUIRE(patch);
  CHECK(patch->find("+    \"example\",\n") != std::string::npos);
  CHECK(patch->find(test::k_fake_harbor_admin_password) == std::string::npos);
  CHECK(patch->find("s3/Secret+Key") == std::string::npos);
  // The README states the member-side overrides and what the member ran without.
  auto readme = common::fs::read_file(dir / "README.md");
  REQUIRE(readme);
  CHECK(readme->find("minesweeper.enabled=false") != std::string::npos);
  CHECK(readme->find("(none recorded") == std::string::npos);

  auto status = fb::app::collect_status(root.path());
  REQUIRE(status);
  CHECK((*status)["handover"]["state"] == "handed over");
  CHECK((*status)["handover"]["time"] == report->time);

  // Twice: already handed over, no write anywhere.
  std::string journal = journal_text(root.path());
  int writes = kube_writes(fakes);
  auto again = fb::federation::run_handover(root.path(), fakes.options(), clock);
  REQUIRE(again);
  CHECK(again->already);
  CHECK(again->time == report->time);
  CHECK(again->to_json()["result"] == "already handed over");
  CHECK(kube_writes(fakes) == writes);
  CHECK(journal_text(root.path()) == journal);

  // The command line says the same (and --json parses).
  auto cli = common::exec::run({std::string(BINDER_BIN_DIR) + "/firstboot/binder-firstboot", "handover",
                                "--root", root.path().string(), "--json"});
  REQUIRE(cli);
  INFO(cli->err);
  CHECK(cli->exit_code == 0);
  auto doc = json::parse(cli->out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  CHECK(doc["result"] == "already handed over");
  CHECK(doc["charts"].size() == 2);
  CHECK(kube_writes(fakes) == writes);

  // The fake's helm-controller does uninstall a chart deleted WITHOUT the annotation (so the
  // checks above could fail): k3s's own chart here.
  auto kube = client(root.path());
  REQUIRE(kube.remove(fb::ObjectRef{"helm.cattle.io/v1", "HelmChart", "kube-system", "traefik-crd"}));
  CHECK(count_jobs(fakes, "delete") == 1);
  CHECK_FALSE(has(objects(fakes), "apps/deployments/kube-system/traefik-crd"));

  // Once handed over, a cluster that cannot be reached does not make the rerun fail.
  std::filesystem::remove(root.path() / "etc/rancher/k3s/k3s.yaml");
  auto offline = fb::federation::run_handover(root.path(), fakes.options(), clock);
  REQUIRE(offline);
  CHECK(offline->already);
  CHECK(journal_text(root.path()) == journal);
}

TEST_CASE("handover: a crash between annotate and delete converges on rerun", "[federation][handover]") {
  Fakes fakes;
  auto root = make_root(fakes);
  deploy(root.path());
  int installs = count_jobs(fakes, "install");
  // Every DELETE of a HelmChart fails: the run stops after annotating both.
  fakes.kube.inject_fault({{"path", "/helmcharts/"}, {"method", "DELETE"}, {"status", 500}, {"count", -1}});
  fb::SystemClock clock;
  auto first = fb::federation::run_handover(root.path(), fakes.options(), clock);
  REQUIRE_FALSE(first);
  CHECK(first.error().to_string().find("deleting HelmChart") != std::string::npos);
  auto objs = objects(fakes);
  for (const auto& n : k_charts) {
    INFO(n);
    REQUIRE(has(objs, chart_key(n)));
    CHECK(objs[chart_key(n)]["metadata"]["annotations"].contains("helmcharts.helm.cattle.io/unmanaged"));
  }
  auto status = fb::app::collect_status(root.path());
  REQUIRE(status);
  CHECK((*status)["handover"]["state"] == "failed");

  fakes.kube.clear_faults();
  auto second = fb::federation::run_handover(root.path(), fakes.options(), clock);
  INFO((second ? "" : second.error().to_string()));
  REQUIRE(second);
  REQUIRE(second->charts.size() == 2);
  for (const auto& c : second->charts) {
    CHECK_FALSE(c.annotated);  // done by the first run
    CHECK(c.deleted);
  }
  check_released_not_uninstalled(fakes);
  CHECK(count_jobs(fakes, "install") == installs);
  status = fb::app::collect_status(root.path());
  REQUIRE(status);
  CHECK((*status)["handover"]["state"] == "handed over");
  fakes.check_no_violations();
}

TEST_CASE("handover: a crash after the first delete converges and keeps both names",
          "[federation][handover]") {
  Fakes fakes;
  auto root = make_root(fakes);
  deploy(root.path());
  // Deleting 'example' fails: 'cert-manager' is already gone when the run stops.
  fakes.kube.inject_fault(
      {{"path", "/helmcharts/example$"}, {"method", "DELETE"}, {"status", 500}, {"count", -1}});
  fb::SystemClock clock;
  REQUIRE_FALSE(fb::federation::run_handover(root.path(), fakes.options(), clock));
  auto objs = objects(fakes);
  CHECK_FALSE(has(objs, chart_key("cert-manager")));
  REQUIRE(has(objs, chart_key("example")));
  fakes.kube.clear_faults();
  auto again = fb::federation::run_handover(root.path(), fakes.options(), clock);
  REQUIRE(again);
  REQUIRE(again->charts.size() == 1);
  CHECK(again->charts[0].name == "example");
  CHECK(again->charts[0].deleted);
  check_released_not_uninstalled(fakes);
  auto status = fb::app::collect_status(root.path());
  REQUIRE(status);
  CHECK((*status)["handover"]["state"] == "handed over");
  CHECK((*status)["handover"]["charts"] == "example,cert-manager");
}

TEST_CASE("handover: waits while a helm Job is running, then goes ahead", "[federation][handover]") {
  Fakes fakes;
  auto root = make_root(fakes);
  deploy(root.path());
  auto kube = client(root.path());
  fb::ObjectRef ref{"batch/v1", "Job", "kube-system", "helm-install-example"};
  auto job = kube.get(ref);
  REQUIRE(job);
  REQUIRE(*job);
  json running = **job;
  running["status"] = {{"active", 1}};
  REQUIRE(kube.replace(running));
  fb::SystemClock clock;
  auto r = fb::federation::run_handover(root.path(), fakes.options(), clock);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == common::Errc::temporary);
  CHECK(r.error().to_string().find("still running") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(root.path() / "var/lib/binder-firstboot/export/handover"));
  auto objs = objects(fakes);
  for (const auto& n : k_charts) {
    REQUIRE(has(objs, chart_key(n)));
    CHECK_FALSE(objs[chart_key(n)]["metadata"].contains("annotations"));
  }
  running = *(*kube.get(ref));
  running["status"] = {{"succeeded", 1}};
  REQUIRE(kube.replace(running));
  REQUIRE(fb::federation::run_handover(root.path(), fakes.options(), clock));
  check_released_not_uninstalled(fakes);
}

TEST_CASE("handover: a member that never deployed gets a clear error and nothing changes",
          "[federation][handover]") {
  Fakes fakes;
  auto root = make_root(fakes);
  fb::SystemClock clock;
  std::string journal = journal_text(root.path());

  SECTION("no metadata was ever loaded") {
    auto r = fb::federation::run_handover(root.path(), fakes.options(), clock);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == common::Errc::precondition);
    CHECK(r.error().to_string().find("member.json") != std::string::npos);
  }
  SECTION("no HelmChart was ever created") {
    REQUIRE(fb::save_member_json(root.path(), test_member()));
    auto r = fb::federation::run_handover(root.path(), fakes.options(), clock);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == common::Errc::precondition);
    CHECK(r.error().to_string().find("never deployed") != std::string::npos);
  }
  SECTION("an agent node") {
    auto m = test_member();
    m.node.role = fb::NodeRole::agent;
    m.node.server_url = "https://10.0.0.1:6443";
    m.node.token = "K10-agent-token";
    REQUIRE(fb::save_member_json(root.path(), m));
    auto r = fb::federation::run_handover(root.path(), fakes.options(), clock);
    REQUIRE_FALSE(r);
    CHECK(r.error().to_string().find("agent node") != std::string::npos);
  }
  CHECK(kube_writes(fakes) == 0);
  CHECK(journal_text(root.path()) == journal);
  CHECK_FALSE(std::filesystem::exists(root.path() / "var/lib/binder-firstboot/export/handover"));
}

TEST_CASE("handover command line: never deployed is a nonzero exit with the reason",
          "[federation][handover]") {
  Fakes fakes;
  auto root = make_root(fakes);
  REQUIRE(fb::save_member_json(root.path(), test_member()));
  auto cli = common::exec::run({std::string(BINDER_BIN_DIR) + "/firstboot/binder-firstboot", "handover",
                                "--root", root.path().string()});
  REQUIRE(cli);
  CHECK(cli->exit_code == 1);
  CHECK(cli->err.find("never deployed") != std::string::npos);
  CHECK(cli->out.empty());
  CHECK(kube_writes(fakes) == 0);
}

}  // namespace binder::federation_test
