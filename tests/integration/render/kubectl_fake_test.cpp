// The real kubectl against the fake Kubernetes API: discovery, get nodes, create and read back a
// namespace and a secret (kubectl >= 1.33 sends protobuf bodies for these), with no violation
// recorded. This is what makes the fake trustworthy for the agent's own kube client.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/fake_server.hpp"
#include "support/skip.hpp"

using binder::test::FakeKind;
using binder::test::FakeServer;
using binder::test::TestPki;

namespace {

std::string kubectl(const std::string& kubeconfig, std::vector<std::string> args, int expect = 0) {
  std::vector<std::string> argv = {"kubectl", "--kubeconfig", kubeconfig};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out, err;
  int rc = binder::test::run_capture(argv, &out, &err);
  INFO("kubectl " << args[0] << " stderr: " << err);
  CHECK(rc == expect);
  return out;
}

}  // namespace

TEST_CASE("fakes: the real kubectl gets nodes and creates and reads a secret", "[fakes][kubectl]") {
  std::string ignored;
  if (binder::test::run_capture({"kubectl", "version", "--client"}, &ignored) != 0) {
    BINDER_SKIP_MISSING_TOOL("kubectl");
  }
  auto pki = TestPki::create();
  FakeServer kube(FakeKind::kube, pki);
  auto kc = kube.write_kubeconfig().string();

  CHECK(kubectl(kc, {"get", "nodes", "-o", "name"}) == "node/binder-node\n");
  CHECK(kubectl(kc, {"version", "-o", "json"}).find("v1.33.5+k3s1") != std::string::npos);
  kubectl(kc, {"create", "namespace", "demo"});
  kubectl(kc, {"create", "secret", "generic", "creds", "-n", "demo", "--from-literal=user=robot$x"});
  CHECK(kubectl(kc, {"get", "secret", "creds", "-n", "demo", "-o", "jsonpath={.data.user}"}) ==
        "cm9ib3QkeA==");
  CHECK(kubectl(kc, {"get", "secrets", "-n", "demo", "-o", "name"}) == "secret/creds\n");
  kubectl(kc, {"create", "secret", "generic", "creds", "-n", "demo", "--from-literal=a=b"}, 1);
  kubectl(kc, {"delete", "secret", "creds", "-n", "demo"});
  kubectl(kc, {"get", "secret", "creds", "-n", "demo"}, 1);
  CHECK(kube.violations().empty());
  CHECK(kube.state()["objects"].contains("/namespaces//demo"));
}
