// The rewritten kubeconfig as kubectl reads it (offline: config view and get-contexts). The
// end-to-end check against the fake API server is in tests/integration/render.
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "firstboot/render/kubeconfig.hpp"
#include "support/skip.hpp"
#include "support/test_ca.hpp"

using nlohmann::json;

TEST_CASE("kubeconfig: kubectl config view and get-contexts show the renamed cluster",
          "[render][kubeconfig][kubectl]") {
  std::string out, err;
  if (binder::test::run_capture({"kubectl", "version", "--client"}, &out) != 0) {
    BINDER_SKIP_MISSING_TOOL("kubectl");
  }
  auto pki = binder::test::TestPki::create();
  std::string k3s =
      "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority: " + pki.ca_cert().string() +
      "\n    server: https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n    cluster: default\n"
      "    user: default\n  name: default\ncurrent-context: default\nkind: Config\npreferences: {}\n"
      "users:\n- name: default\n  user:\n    client-certificate: " +
      pki.client_cert().string() + "\n    client-key: " + pki.client_key().string() + "\n";
  auto rewritten = binder::firstboot::render::rewrite_kubeconfig_yaml(k3s, "hetzner-2i2c", "203.0.113.7");
  REQUIRE(rewritten);
  auto path = pki.dir() / "hetzner-2i2c-kubeconfig.yaml";
  std::ofstream(path) << *rewritten;

  REQUIRE(binder::test::run_capture(
              {"kubectl", "--kubeconfig", path.string(), "config", "view", "-o", "json"}, &out, &err) == 0);
  auto view = json::parse(out);
  CHECK(view["current-context"] == "hetzner-2i2c");
  CHECK(view["clusters"][0]["name"] == "hetzner-2i2c");
  CHECK(view["clusters"][0]["cluster"]["server"] == "https://203.0.113.7:6443");
  CHECK(view["clusters"][0]["cluster"]["certificate-authority"] == pki.ca_cert().string());
  CHECK(view["contexts"][0]["name"] == "hetzner-2i2c");
  CHECK(view["contexts"][0]["context"]["namespace"] == "hetzner-2i2c");
  CHECK(view["users"][0]["name"] == "hetzner-2i2c");

  REQUIRE(binder::test::run_capture(
              {"kubectl", "--kubeconfig", path.string(), "config", "get-contexts", "--no-headers"}, &out,
              &err) == 0);
  std::istringstream words_in(out);
  std::vector<std::string> words{std::istream_iterator<std::string>(words_in), {}};
  CHECK(words ==
        std::vector<std::string>{"*", "hetzner-2i2c", "hetzner-2i2c", "hetzner-2i2c", "hetzner-2i2c"});
}
