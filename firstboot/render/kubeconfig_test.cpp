// The kubeconfig rewrite matches fetch_k3s_kubeconfig.py.
#include "firstboot/render/kubeconfig.hpp"

#include <catch2/catch.hpp>

#include "firstboot/render/yaml.hpp"

using namespace binder::firstboot::render;
using nlohmann::json;

TEST_CASE("kubeconfig: cluster, context and user renamed, server on the public IP", "[render][kubeconfig]") {
  auto out = rewrite_kubeconfig_yaml(k3s_kubeconfig_placeholder(), "bids-ovh", "198.51.100.4");
  REQUIRE(out);
  auto doc = from_yaml(*out, "out");
  REQUIRE(doc);
  CHECK((*doc)["clusters"][0]["name"] == "bids-ovh");
  CHECK((*doc)["clusters"][0]["cluster"]["server"] == "https://198.51.100.4:6443");
  CHECK((*doc)["clusters"][0]["cluster"]["certificate-authority-data"] == "<k3s:server-ca-data>");
  CHECK((*doc)["contexts"] == json::parse(R"([{"name": "bids-ovh", "context":
      {"cluster": "bids-ovh", "namespace": "bids-ovh", "user": "bids-ovh"}}])"));
  CHECK((*doc)["current-context"] == "bids-ovh");
  CHECK((*doc)["users"][0]["name"] == "bids-ovh");
  CHECK((*doc)["users"][0]["user"]["client-key-data"] == "<secret:k3s-admin-client-key-data>");
  // keys sorted like PyYAML's dump
  CHECK(out->rfind("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data:", 0) == 0);
}

TEST_CASE("kubeconfig: a document without clusters is refused", "[render][kubeconfig]") {
  auto out = rewrite_kubeconfig_yaml("apiVersion: v1\nkind: Config\n", "x", "192.0.2.1");
  REQUIRE_FALSE(out);
  CHECK(out.error().message.find("clusters") != std::string::npos);
}
