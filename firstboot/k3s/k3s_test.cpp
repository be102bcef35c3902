// k3s files and steps against a temp root; the kubelet math; kube client logic over a fake
// transport (the real fake API server is exercised in tests/integration/firstboot).
#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "firstboot/k3s/base64.hpp"
#include "firstboot/k3s/k3s_files.hpp"
#include "firstboot/k3s/k3s_steps.hpp"
#include "firstboot/k3s/kube_client.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
using binder::firstboot::testing::TestRoot;
using nlohmann::json;

namespace {

constexpr std::uint64_t k_gib = 1024ull * 1024 * 1024;

Member k3s_member() {
  Member m;
  m.name = "example";
  m.domain = "mybinder.org";
  return m;
}

MachineFacts facts(double gib = 16, int cpus = 4) {
  MachineFacts f;
  f.ram_bytes = static_cast<std::uint64_t>(gib * k_gib);
  f.cpus = cpus;
  f.public_ip = "203.0.113.7";
  f.public_ip_source = "metadata";
  return f;
}

// The one machine sizing (firstboot/sizing.hpp) for a server of `gib` RAM and `cpus` CPUs.
Sizing k3s_sized(double gib, int cpus, double factor) {
  SizingInputs in;
  in.ram_gib = gib;
  in.cpus = cpus;
  in.max_pods_per_gib = factor;
  return size_machine(in);
}

Outcome apply_k3s(Step& s, Env& env) {
  auto r = s.apply(env);
  if (!r) {
    FAIL(r.error().to_string());
  }
  return *r;
}

}  // namespace

TEST_CASE("k3s: kubelet sizing for several RAM sizes", "[k3s][kubelet]") {
  struct Row {
    double gib;
    int cpus;
    int pods;
    int kube_cpu;
    std::int64_t kube_mem;
    int sys_cpu;
    std::int64_t sys_mem;
  };
  // kube memory: 25% of 4 + 20% of 4 + 10% of 8 + 6% of 112 + 2% above (GKE tiers)
  for (const Row& r : std::vector<Row>{
           {1, 1, 20, 60, 256, 100, 128},  // floor(1.75) = 1 -> minimum 20
           {2, 1, 20, 60, 512, 100, 128},
           {3.5, 2, 20, 70, 896, 100, 180},         // floor(6.125) = 6 -> 20
           {8, 2, 20, 70, 1844, 100, 410},          // 14 -> 20; 1024 + 819.2
           {16, 4, 28, 80, 2663, 200, 820},         // 1.75 x 16 = 28
           {64, 16, 112, 110, 5612, 800, 2048},     // 2662.4 + 6% of 48 GiB
           {256, 48, 448, 190, 12166, 1000, 2048},  // 448: above a /24's 250, so a /23 node CIDR
       }) {
    INFO(r.gib << " GiB, " << r.cpus << " CPUs");
    auto s = k3s_sized(r.gib, r.cpus, 1.75);
    CHECK(s.max_pods == r.pods);
    CHECK(s.kube_reserved_cpu_m == r.kube_cpu);
    CHECK(s.kube_reserved_memory_mi == r.kube_mem);
    CHECK(s.system_reserved_cpu_m == r.sys_cpu);
    CHECK(s.system_reserved_memory_mi == r.sys_mem);
  }
  CHECK(k3s_sized(192, 48, 1.56).max_pods == 299);
  CHECK(k3s_sized(192, 48, 1.56).node_cidr_mask_size == 23);
  CHECK(k3s_sized(100, 8, 2.0).max_pods == 200);
  CHECK(k3s_sized(100, 8, 2.0).node_cidr_mask_size == 24);
  CHECK(k3s_sized(32, 8, 1.75).max_pods == 56);
  CHECK(k3s_sized(1024, 64, 1.75).max_pods == 500);  // a /23 holds 510 pod addresses
}

TEST_CASE("k3s: kubelet drop-in text", "[k3s][kubelet]") {
  auto text = k3s::render_kubelet_conf(k3s_sized(16, 4, 1.75));
  CHECK(text.find("kind: KubeletConfiguration\nmaxPods: 28\n") != std::string::npos);
  CHECK(text.find("imageGCHighThresholdPercent: 40\nimageGCLowThresholdPercent: 20\n") != std::string::npos);
  CHECK(text.find("kubeReserved:\n  cpu: 80m\n  memory: 2663Mi\n") != std::string::npos);
}

TEST_CASE("k3s: config.yaml for a server and an agent", "[k3s]") {
  TestRoot t(k3s_member(), facts());
  CHECK(k3s::render_k3s_config(*t.env) ==
        "# Written by binder-firstboot for member 'example'. k3s reads it at start.\n"
        "node-name: \"example\"\nwrite-kubeconfig-mode: \"0600\"\ntls-san:\n  - \"203.0.113.7\"\n"
        "  - \"example.mybinder.org\"\n"
        "# The member deploys its own ingress; ServiceLB and local-storage stay on.\n"
        "disable:\n  - traefik\n");
  SECTION("behind NAT the public IP is also the node's external IP") {
    t.env->facts.public_ip_on_nic = false;
    CHECK(k3s::render_k3s_config(*t.env) ==
          "# Written by binder-firstboot for member 'example'. k3s reads it at start.\n"
          "node-name: \"example\"\nwrite-kubeconfig-mode: \"0600\"\ntls-san:\n  - \"203.0.113.7\"\n"
          "  - \"example.mybinder.org\"\nnode-external-ip: \"203.0.113.7\"\n"
          "# The member deploys its own ingress; ServiceLB and local-storage stay on.\n"
          "disable:\n  - traefik\n");
  }
  t.env->member.node.role = NodeRole::agent;
  t.env->member.node.server_url = "https://10.0.0.1:6443";
  t.env->member.node.token = "K10abc::server:xyz";
  t.write("/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  CHECK(
      k3s::render_k3s_config(*t.env) ==
      "# Written by binder-firstboot for member 'example'. k3s reads it at start.\n"
      "node-name: \"example-01234567\"\nserver: \"https://10.0.0.1:6443\"\ntoken: \"K10abc::server:xyz\"\n");
}

TEST_CASE("k3s: a large server gets a /23 node CIDR matching its maxPods, agents never set it",
          "[k3s][kubelet]") {
  TestRoot t(k3s_member(), facts(192, 48));
  std::string conf = k3s::render_k3s_config(*t.env);
  CHECK(conf.find("kube-controller-manager-arg:\n  - \"node-cidr-mask-size=23\"\n") != std::string::npos);
  auto kubelet_step = k3s::make_kubelet_step();
  apply_k3s(*kubelet_step, *t.env);
  CHECK(t.read(k3s::k_kubelet_path).find("\nmaxPods: 336\n") != std::string::npos);  // 1.75 x 192 > 250
  t.env->member.node.role = NodeRole::agent;
  t.env->member.node.server_url = "https://10.0.0.1:6443";
  CHECK(k3s::render_k3s_config(*t.env).find("node-cidr-mask-size") == std::string::npos);
  apply_k3s(*kubelet_step, *t.env);
  CHECK(t.read(k3s::k_kubelet_path).find("\nmaxPods: 250\n") !=
        std::string::npos);  // the server picks the CIDR
}

TEST_CASE("k3s: the kubelet drop-in uses the image's kubelet defaults, metadata max_pods_per_gib wins",
          "[k3s][kubelet]") {
  TestRoot t(k3s_member(), facts(64, 16));
  t.env->facts.kubelet = KubeletDefaults{2.5, 70, 50, "test image"};
  auto step = k3s::make_kubelet_step();
  apply_k3s(*step, *t.env);
  std::string text = t.read(k3s::k_kubelet_path);
  CHECK(text.find("\nmaxPods: 160\n") != std::string::npos);
  CHECK(text.find("imageGCHighThresholdPercent: 70\nimageGCLowThresholdPercent: 50\n") != std::string::npos);
  t.env->member.node.max_pods_per_gib = 1.0;
  apply_k3s(*step, *t.env);
  CHECK(t.read(k3s::k_kubelet_path).find("\nmaxPods: 64\n") != std::string::npos);
}

TEST_CASE("k3s: file steps applied twice, optional files come and go", "[k3s]") {
  TestRoot t(k3s_member(), facts());
  t.env->member.k3s.auto_upgrade = true;
  t.env->member.node.registry_mirrors["docker.io"] = {"https://mirror.example.org"};
  StepList steps;  // in run order (firstboot/app/steps.cpp)
  steps.push_back(k3s::make_config_step());
  steps.push_back(k3s::make_kubelet_step());
  steps.push_back(k3s::make_registries_step());
  steps.push_back(k3s::make_upgrade_plan_step());
  steps.push_back(k3s::make_service_step());
  steps.push_back(k3s::make_ready_step());
  for (int round = 0; round < 2; ++round) {
    for (auto& s : steps) {
      INFO(s->id() << " round " << round);
      CHECK(apply_k3s(*s, *t.env) == (round == 0 && s->id() != "k3s:service" && s->id() != "k3s:ready"
                                          ? Outcome::changed
                                          : Outcome::unchanged));
    }
  }
  CHECK((std::filesystem::status(t.path(k3s::k_config_path)).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  CHECK(t.read(k3s::k_registries_path)
            .find("\"docker.io\":\n    endpoint:\n      - \"https://mirror.example.org\"\n") !=
        std::string::npos);
  CHECK(t.read(k3s::k_plan_path) ==
        *binder::common::fs::read_file(BINDER_SOURCE_DIR "/firstboot/assets/k3s-upgrade-plan.yaml"));
  CHECK(t.runner.calls.empty());  // not live: no systemctl

  t.env->member.k3s.auto_upgrade = false;
  t.env->member.node.registry_mirrors.clear();
  CHECK(apply_k3s(*k3s::make_upgrade_plan_step(), *t.env) == Outcome::changed);
  CHECK(apply_k3s(*k3s::make_registries_step(), *t.env) == Outcome::changed);
  CHECK(!std::filesystem::exists(t.path(k3s::k_plan_path)));
  CHECK(!std::filesystem::exists(t.path(k3s::k_registries_path)));
  CHECK(apply_k3s(*k3s::make_registries_step(), *t.env) == Outcome::unchanged);
  // An operator's own registries.yaml is never removed.
  t.write(k3s::k_registries_path, "mirrors: {}\n");
  CHECK(apply_k3s(*k3s::make_registries_step(), *t.env) == Outcome::unchanged);
  CHECK(t.read(k3s::k_registries_path) == "mirrors: {}\n");
}

TEST_CASE("k3s: an image that bakes the upgrade controller and Plan gets no second Plan", "[k3s]") {
  TestRoot t(k3s_member(), facts());
  t.env->member.k3s.auto_upgrade = true;
  t.write(k3s::k_baked_plan_path, "kind: Plan\n");
  CHECK(apply_k3s(*k3s::make_upgrade_plan_step(), *t.env) == Outcome::unchanged);
  CHECK(!std::filesystem::exists(t.path(k3s::k_plan_path)));
  CHECK(t.read(k3s::k_baked_plan_path) == "kind: Plan\n");  // the image's file is left alone
}

TEST_CASE("k3s: the upgrade plan asset equals mybinder's plan", "[k3s]") {
  auto ref = binder::common::fs::read_file(BINDER_SHARED_DIR "/reference/mybinder/k3s-upgrade-plan.yaml");
  REQUIRE(ref);
  CHECK(k3s::upgrade_plan_yaml() == *ref);
}

TEST_CASE("k3s: service step enables once and restarts on changed files (live runner)", "[k3s]") {
  // Env::live() needs root "/", so exercise the logic through a live Env whose runner is fake
  // and whose files are absent: only systemctl calls happen.
  testing::FakeRunner runner;
  testing::FakeClock clock;
  MemoryOutputStore outputs;
  bool active = false;
  runner.handler = [&](const std::vector<std::string>& a, const auto&) {
    if (a[1] == "is-enabled" || a[1] == "is-active") {
      return active ? testing::ok_output() : testing::fail_output(3);
    }
    if (a[1] == "enable") {
      active = true;
    }
    return testing::ok_output();
  };
  Env env("/", k3s_member(), facts(), runner, clock, outputs);
  env.current_step = "k3s:service";
  auto s = k3s::make_service_step();
  CHECK(apply_k3s(*s, env) == Outcome::changed);
  CHECK(runner.calls.back() == std::vector<std::string>{"systemctl", "enable", "--now", "k3s.service"});
  CHECK(apply_k3s(*s, env) == Outcome::unchanged);
  CHECK(runner.count("systemctl") == 5);
}

TEST_CASE("k3s: kubeconfig parsing", "[k3s][kube]") {
  std::string ca = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
  std::string y =
      "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: " + base64_encode(ca) +
      "\n    server: https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n    cluster: default\n"
      "    user: default\n  name: default\ncurrent-context: default\nkind: Config\nusers:\n- name: default\n"
      "  user:\n    client-certificate-data: " +
      base64_encode("CERT") + "\n    client-key-data: " + base64_encode("KEY") + "\n";
  auto c = parse_kubeconfig(y, "k3s.yaml");
  REQUIRE(c);
  CHECK(c->server == "https://127.0.0.1:6443");
  CHECK(c->ca_pem == ca);
  CHECK(c->client_cert_pem == "CERT");
  CHECK(c->client_key_pem == "KEY");
  CHECK(!parse_kubeconfig("clusters: []\n", "x"));
  CHECK(base64_decode(base64_encode("a")) == "a");
  CHECK(base64_decode(base64_encode("ab")) == "ab");
  CHECK(base64_decode(base64_encode("abc")) == "abc");
  CHECK(base64_encode("abcd") == "YWJjZA==");
}

TEST_CASE("k3s: resource paths and readiness rules", "[k3s][kube]") {
  CHECK(object_path({"v1", "Secret", "binder", "s"}) == "/api/v1/namespaces/binder/secrets/s");
  CHECK(object_path({"helm.cattle.io/v1", "HelmChart", "kube-system", "harbor"}) ==
        "/apis/helm.cattle.io/v1/namespaces/kube-system/helmcharts/harbor");
  CHECK(object_path({"v1", "Namespace", "", "binder"}) == "/api/v1/namespaces/binder");
  CHECK(collection_path("cert-manager.io/v1", "ClusterIssuer", "") ==
        "/apis/cert-manager.io/v1/clusterissuers");
  CHECK(collection_path("networking.k8s.io/v1", "IngressClass", "") ==
        "/apis/networking.k8s.io/v1/ingressclasses");
  CHECK(collection_path("v1", "Policy", "") == "/api/v1/policies");
  json d = {{"metadata", {{"generation", 2}}},
            {"spec", {{"replicas", 2}}},
            {"status",
             {{"observedGeneration", 2},
              {"updatedReplicas", 2},
              {"readyReplicas", 2},
              {"availableReplicas", 1},
              {"conditions", {{{"type", "Available"}, {"status", "True"}}}}}}};
  std::string why;
  CHECK(!deployment_ready(d, &why));
  CHECK(why == "1/2 availableReplicas");
  d["status"]["availableReplicas"] = 2;
  CHECK(deployment_ready(d, &why));
  d["metadata"]["generation"] = 3;
  CHECK(!deployment_ready(d));
  CHECK(node_is_ready({{"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}}));
  CHECK(!node_is_ready({{"status", {{"conditions", {{{"type", "Ready"}, {"status", "False"}}}}}}}));
}

TEST_CASE("k3s: apply creates, leaves alone, then updates with resourceVersion", "[k3s][kube]") {
  json stored;  // one object store
  std::vector<std::string> log;
  KubeTransport t =
      [&](const binder::common::http::Request& r) -> binder::common::Result<binder::common::http::Response> {
    log.push_back(r.method + " " + r.url);
    binder::common::http::Response resp;
    if (r.method == "GET") {
      resp.status = stored.is_null() ? 404 : 200;
      resp.body = stored.is_null() ? R"({"kind":"Status","code":404})" : stored.dump();
    } else if (r.method == "POST") {
      stored = json::parse(r.body);
      stored["metadata"]["resourceVersion"] = "1";
      resp.status = 201;
      resp.body = stored.dump();
    } else if (r.method == "PUT") {
      json in = json::parse(r.body);
      if (in["metadata"]["resourceVersion"] != stored["metadata"]["resourceVersion"]) {
        resp.status = 409;
        resp.body = R"({"kind":"Status","message":"conflict","reason":"Conflict","code":409})";
      } else {
        stored = in;
        stored["metadata"]["resourceVersion"] = "2";
        resp.status = 200;
        resp.body = stored.dump();
      }
    }
    return resp;
  };
  KubeClient kube(KubeConfig{"https://127.0.0.1:6443/", "", "", "", "tok"}, t);
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "s"}, {"namespace", "binder"}}},
                 {"stringData", {{"password", "hunter2"}}}};
  CHECK(kube.apply(secret) == ApplyResult::created);
  CHECK(stored["data"]["password"] == base64_encode("hunter2"));
  CHECK(!stored.contains("stringData"));
  CHECK(kube.apply(secret) == ApplyResult::unchanged);
  secret["stringData"]["password"] = "changed";
  CHECK(kube.apply(secret) == ApplyResult::updated);
  CHECK(stored["metadata"]["resourceVersion"] == "2");
  CHECK(log[0] == "GET https://127.0.0.1:6443/api/v1/namespaces/binder/secrets/s");
  CHECK(log[1] == "POST https://127.0.0.1:6443/api/v1/namespaces/binder/secrets");
}
