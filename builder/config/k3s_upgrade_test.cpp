// k3s.upgrade: defaults pin system-upgrade-controller v0.20.1 and mybinder's Plan byte for byte;
// a pinned k3s version replaces the channel; bad values are config errors naming the key.
#include "config/k3s_upgrade.hpp"

#include <cstdlib>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "common/hash.hpp"
#include "config/load.hpp"

using namespace binder::config;

namespace {

const std::filesystem::path k_base = std::filesystem::path(BINDER_SOURCE_DIR) / "profiles/base.yaml";

binder::common::Result<Profile> load(const std::vector<std::string>& overrides = {}) {
  return load_profile(k_base, overrides);
}

}  // namespace

TEST_CASE("k3s.upgrade: on by default, the v0.20.1 release pinned, mybinder's Plan unchanged",
          "[config][k3s_upgrade]") {
  auto p = load();
  REQUIRE(p);
  const auto& u = p->k3s.upgrade;
  CHECK(u.enable.value);
  CHECK(u.channel.value == "https://update.k3s.io/v1-release/channels/stable");
  auto c = upgrade_controller_download(u);
  auto d = upgrade_crd_download(u);
  REQUIRE(c);
  REQUIRE(d);
  CHECK(
      c->url ==
      "https://github.com/rancher/system-upgrade-controller/releases/download/v0.20.1/system-upgrade-controller.yaml");
  CHECK(d->url == "https://github.com/rancher/system-upgrade-controller/releases/download/v0.20.1/crd.yaml");
  // The stand-ins' digests (reference/mirror/system-upgrade-controller/v0.20.1/README.md).
  const std::string mirror = BINDER_SHARED_DIR "/reference/mirror/system-upgrade-controller/v0.20.1/";
  auto ctrl = binder::common::fs::read_file(mirror + "system-upgrade-controller.yaml");
  auto crd = binder::common::fs::read_file(mirror + "crd.yaml");
  REQUIRE(ctrl);
  REQUIRE(crd);
  CHECK(c->sha256 == binder::common::hash::sha256_hex(*ctrl));
  CHECK(d->sha256 == binder::common::hash::sha256_hex(*crd));
  // The release manifest creates the namespace the Plan lives in, and its service account.
  CHECK(
      ctrl->find(
          "kind: Namespace\nmetadata:\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n  name: system-upgrade\n") !=
      std::string::npos);
  CHECK(
      ctrl->find("kind: ServiceAccount\nmetadata:\n  name: system-upgrade\n  namespace: system-upgrade\n") !=
      std::string::npos);
  auto plan = binder::common::fs::read_file(BINDER_SHARED_DIR "/reference/mybinder/k3s-upgrade-plan.yaml");
  REQUIRE(plan);
  CHECK(upgrade_plan_yaml(u) == *plan);
}

TEST_CASE("k3s.upgrade: a pinned k3s version goes into the Plan as version instead of channel",
          "[config][k3s_upgrade]") {
  auto p = load({"k3s.upgrade.channel=v1.33.6+k3s1"});
  REQUIRE(p);
  std::string plan = upgrade_plan_yaml(p->k3s.upgrade);
  CHECK(plan.find("\n  version: v1.33.6+k3s1\n") != std::string::npos);
  CHECK(plan.find("channel:") == std::string::npos);
  auto q = load({"k3s.upgrade.channel=https://update.k3s.io/v1-release/channels/v1.33"});
  REQUIRE(q);
  CHECK(upgrade_plan_yaml(q->k3s.upgrade)
            .find("\n  channel: https://update.k3s.io/v1-release/channels/v1.33\n") != std::string::npos);
}

TEST_CASE("k3s.upgrade: bad values are errors naming the key", "[config][k3s_upgrade]") {
  auto bad_channel = load({"k3s.upgrade.channel=latest"});
  REQUIRE_FALSE(bad_channel);
  CHECK(bad_channel.error().message.find("'k3s.upgrade.channel': 'latest' is neither a channel URL") !=
        std::string::npos);
  auto bad_url = load({"k3s.upgrade.crd_url=/srv/crd.yaml"});
  REQUIRE_FALSE(bad_url);
  CHECK(bad_url.error().message.find("k3s.upgrade.crd_url") != std::string::npos);
  CHECK(bad_url.error().message.find("/srv/crd.yaml") != std::string::npos);
  auto bad_sha = load({"k3s.upgrade.controller_sha256=abc"});
  REQUIRE_FALSE(bad_sha);
  CHECK(bad_sha.error().message.find("k3s.upgrade.controller_sha256") != std::string::npos);
  // Another release needs its own digests: no default digest is applied to it.
  auto other = load({"k3s.upgrade.controller_version=v0.20.2"});
  REQUIRE(other);
  auto c = upgrade_controller_download(other->k3s.upgrade);
  REQUIRE_FALSE(c);
  CHECK(c.error().message.find("k3s.upgrade.controller_sha256: required for controller_version 'v0.20.2'") !=
        std::string::npos);
  auto pinned = load(
      {"k3s.upgrade.controller_version=v0.20.2", "k3s.upgrade.controller_sha256=" + std::string(64, 'a')});
  REQUIRE(pinned);
  auto pc = upgrade_controller_download(pinned->k3s.upgrade);
  REQUIRE(pc);
  CHECK(
      pc->url ==
      "https://github.com/rancher/system-upgrade-controller/releases/download/v0.20.2/system-upgrade-controller.yaml");
  CHECK(pc->sha256 == std::string(64, 'a'));
}
