// The rewritten kubeconfig read by the real kubectl: `config view` and `get-contexts` show the
// cluster name everywhere with its namespace, and the file reaches the (fake) API server at the
// "public" address with the untouched certificates.
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "firstboot/render/kubeconfig.hpp"
#include "support/fake_server.hpp"
#include "support/skip.hpp"

using binder::test::FakeKind;
using binder::test::FakeServer;
using binder::test::TestPki;
using nlohmann::json;

namespace {

std::string run_kubectl(const std::string& kubeconfig, std::vector<std::string> args) {
  std::vector<std::string> argv = {"kubectl", "--kubeconfig", kubeconfig};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out, err;
  int rc = binder::test::run_capture(argv, &out, &err);
  INFO("kubectl stderr: " << err);
  CHECK(rc == 0);
  return out;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("render: the rewritten kubeconfig works with kubectl", "[render][kubeconfig][kubectl]") {
  std::string ignored;
  if (binder::test::run_capture({"kubectl", "version", "--client"}, &ignored) != 0) {
    BINDER_SKIP_MISSING_TOOL("kubectl");
  }
  // The fake plays the VM's API server on 127.0.0.2 (the "public IP"); the k3s.yaml names
  // 127.0.0.1 like the real one, so only the rewrite makes it reachable.
  auto pki = TestPki::create({"IP:127.0.0.2"});
  FakeServer kube(FakeKind::kube, pki, {.bind = "127.0.0.2"});
  std::string k3s = slurp(kube.write_kubeconfig());
  auto at = k3s.find("127.0.0.2");
  REQUIRE(at != std::string::npos);
  k3s.replace(at, 9, "127.0.0.1");

  auto out = binder::firstboot::render::rewrite_kubeconfig_yaml(k3s, "example", "127.0.0.2");
  REQUIRE(out);
  auto path = kube.state_dir() / "example-kubeconfig.yaml";
  std::ofstream(path) << *out;

  auto view = json::parse(run_kubectl(path, {"config", "view", "--raw", "-o", "json"}));
  CHECK(view["current-context"] == "example");
  CHECK(view["clusters"][0]["name"] == "example");
  CHECK(view["clusters"][0]["cluster"]["server"] == kube.url());
  CHECK(view["contexts"][0]["context"] ==
        json({{"cluster", "example"}, {"namespace", "example"}, {"user", "example"}}));
  CHECK(view["users"][0]["name"] == "example");
  std::istringstream contexts(run_kubectl(path, {"config", "get-contexts", "--no-headers"}));
  std::vector<std::string> words{std::istream_iterator<std::string>(contexts), {}};
  CHECK(words == std::vector<std::string>{"*", "example", "example", "example", "example"});
  CHECK(run_kubectl(path, {"get", "nodes", "-o", "name"}) == "node/binder-node\n");
  run_kubectl(path, {"create", "namespace", "example"});
  run_kubectl(path, {"create", "secret", "generic", "in-default-ns", "--from-literal=a=b"});
  CHECK(run_kubectl(path, {"get", "secrets", "-o", "name"}) ==
        "secret/in-default-ns\n");  // namespace: example
  CHECK(kube.violations().empty());
}
