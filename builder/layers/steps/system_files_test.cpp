// The system layer's k3s.upgrade files: the verified release files and the Plan in k3s's server
// manifests dir, nothing when disabled; hygiene accepts exactly these names there.
#include "layers/steps/system_files.hpp"

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "config/k3s_upgrade.hpp"
#include "config/load.hpp"
#include "layers/steps/hygiene_checks.hpp"

using namespace binder;
using namespace binder::layers;

namespace {

const std::string k_mirror = BINDER_SHARED_DIR "/reference/mirror/system-upgrade-controller/v0.20.1/";

config::Profile base_profile(const std::vector<std::string>& overrides = {}) {
  auto p = config::load_profile(std::filesystem::path(BINDER_SOURCE_DIR) / "profiles/base.yaml", overrides);
  REQUIRE(p);
  return *p;
}

ResolvedInputs inputs(bool upgrade) {
  ResolvedInputs in;
  in.k3s_binary = InputFile{"/bin/true", std::string(64, 'a'), "k3s"};
  if (upgrade) {
    in.upgrade_crd = InputFile{k_mirror + "crd.yaml", "68a2", "crd.yaml"};
    in.upgrade_controller =
        InputFile{k_mirror + "system-upgrade-controller.yaml", "11ba", "system-upgrade-controller.yaml"};
  }
  return in;
}

std::map<std::string, const image::TarEntry*> by_path(const image::TarBuilder& t) {
  std::map<std::string, const image::TarEntry*> m;
  for (const auto* e : t.entries())
    m[e->path] = e;
  return m;
}

}  // namespace

TEST_CASE("system files: controller, CRD and Plan go into the server manifests dir, CRD first",
          "[layers][k3s_upgrade]") {
  auto p = base_profile({"k3s.upgrade.channel=v1.33.6+k3s1"});
  auto tree = steps::system_tree(p, inputs(true));
  REQUIRE(tree);
  auto m = by_path(*tree);
  const std::string dir = "var/lib/rancher/k3s/server/manifests/";
  REQUIRE(m.contains(dir + "system-upgrade-00-crd.yaml"));
  REQUIRE(m.contains(dir + "system-upgrade-10-controller.yaml"));
  REQUIRE(m.contains(dir + "system-upgrade-20-plan.yaml"));
  CHECK(m[dir + "system-upgrade-00-crd.yaml"]->host_path == k_mirror + "crd.yaml");
  CHECK(m[dir + "system-upgrade-10-controller.yaml"]->host_path ==
        k_mirror + "system-upgrade-controller.yaml");
  CHECK(m[dir + "system-upgrade-20-plan.yaml"]->data == config::upgrade_plan_yaml(p.k3s.upgrade));
  CHECK(m[dir + "system-upgrade-20-plan.yaml"]->data.find("version: v1.33.6+k3s1") != std::string::npos);
  // Name order is apply order: the CRD before the controller before the Plan.
  CHECK(std::string(config::k_suc_crd_file) < std::string(config::k_suc_controller_file));
  CHECK(std::string(config::k_suc_controller_file) < std::string(config::k_suc_plan_file));

  // Hygiene: these three and traefik.yaml.skip are content; anything else there is k3s state.
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& [path, e] : m)
    files.emplace_back(path, e->data);
  CHECK(steps::tree_hygiene(files).empty());
  files.emplace_back(dir + "coredns.yaml", "x");
  CHECK(steps::tree_hygiene(files) == std::vector<std::string>{"/" + dir + "coredns.yaml"});
}

TEST_CASE("system files: no upgrade inputs, no upgrade files", "[layers][k3s_upgrade]") {
  auto tree = steps::system_tree(base_profile({"k3s.upgrade.enable=false"}), inputs(false));
  REQUIRE(tree);
  for (const auto& [path, e] : by_path(*tree)) {
    CHECK(path.find("system-upgrade") == std::string::npos);
  }
}

TEST_CASE("system files: k3s's import cache is baked empty beside the images, with the image lists",
          "[layers]") {
  auto dir = common::fs::TempDir::create("image-lists-tree");
  REQUIRE(dir);
  const std::string list =
      "docker.io/library/busybox:1.36\nquay.io/jupyterhub/k8s-hub@sha256:" + std::string(64, 'a') + "\n";
  REQUIRE(common::fs::write_file_atomic(dir->path() / "extra.txt", list));
  auto p = base_profile();
  p.k3s.image_lists.value.push_back({dir->path() / "extra.txt", common::SourceLoc{"p.yaml", 7, 3}});
  auto tree = steps::system_tree(p, inputs(false));
  REQUIRE(tree);
  auto m = by_path(*tree);
  const std::string images = "var/lib/rancher/k3s/agent/images/";
  REQUIRE(m.contains(images + ".cache.json"));
  CHECK(m[images + ".cache.json"]->data.empty());
  REQUIRE(m.contains(images + "extra.txt"));
  CHECK(m[images + "extra.txt"]->data == list);

  // No k3s, no k3s images dir.
  auto none = steps::system_tree(base_profile({"k3s.install=false"}), ResolvedInputs{});
  REQUIRE(none);
  CHECK_FALSE(by_path(*none).contains(images + ".cache.json"));
}

TEST_CASE("system files: an image list that is not one reference a line is named with its line", "[layers]") {
  auto dir = common::fs::TempDir::create("image-lists-bad");
  REQUIRE(dir);
  auto p = base_profile();
  p.k3s.image_lists.value.push_back({dir->path() / "bad.txt", common::SourceLoc{"p.yaml", 7, 3}});
  const std::string bad = (dir->path() / "bad.txt").string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"busybox:1.36\n\nnginx\n", bad + ":2: '' is not an image reference"},
      {"busybox:1.36\n# pinned\n", bad + ":2: '# pinned' is not an image reference"},
      {"Busybox:1.36\n", bad + ":1: 'Busybox:1.36'"},
      {"", "p.yaml:7:3: image list '" + bad + "' is empty"},
  };
  for (const auto& [text, message] : cases) {
    INFO(text);
    REQUIRE(common::fs::write_file_atomic(dir->path() / "bad.txt", text));
    auto tree = steps::system_tree(p, inputs(false));
    REQUIRE_FALSE(tree);
    CHECK(tree.error().code == common::Errc::invalid_config);
    INFO(tree.error().message);
    CHECK(tree.error().message.find(message) != std::string::npos);
  }
}
