// k3s.image_lists: `.txt` files resolved against the profile that names them, unique names,
// each missing file named at its line.
#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "config/load.hpp"

using namespace binder;
namespace stdfs = std::filesystem;

namespace {

common::Result<config::Profile> load_with(const stdfs::path& dir, const std::string& lists) {
  auto yaml = dir / "p.yaml";
  REQUIRE(common::fs::write_file_atomic(
      yaml, fmt::format("extends: {}\nk3s:\n  image_lists: {}\n",
                        (stdfs::path(BINDER_SOURCE_DIR) / "profiles/base.yaml").string(), lists)));
  return config::load_profile(yaml, {});
}

}  // namespace

TEST_CASE("profiles: k3s.image_lists resolve against the profile and must exist", "[config]") {
  auto dir = common::fs::TempDir::create("image-lists");
  REQUIRE(dir);
  auto p = load_with(dir->path(), "[lists/extra.txt, pinned.txt]");
  INFO((p ? std::string() : p.error().message));
  REQUIRE(p);
  REQUIRE(p->k3s.image_lists.value.size() == 2);
  CHECK(p->k3s.image_lists.value[0].value == dir->path() / "lists/extra.txt");
  CHECK(p->k3s.image_lists.value[0].loc.line == 3);
  auto missing = config::check_inputs_exist(*p);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find(fmt::format("p.yaml:3:17: error: image list '{}' does not exist",
                                                 (dir->path() / "lists/extra.txt").string())) !=
        std::string::npos);
  stdfs::create_directories(dir->path() / "lists");
  REQUIRE(common::fs::write_file_atomic(dir->path() / "lists/extra.txt", "docker.io/library/busybox:1.36\n"));
  REQUIRE(common::fs::write_file_atomic(dir->path() / "pinned.txt", "quay.io/jupyterhub/k8s-hub:4.2.0\n"));
  CHECK(config::check_inputs_exist(*p));
  // Defaults: none.
  auto base = config::load_profile(stdfs::path(BINDER_SOURCE_DIR) / "profiles/base.yaml", {});
  REQUIRE(base);
  CHECK(base->k3s.image_lists.value.empty());
}

TEST_CASE("profiles: k3s.image_lists must be .txt files with distinct names", "[config]") {
  auto dir = common::fs::TempDir::create("image-lists-bad");
  REQUIRE(dir);
  auto ext = load_with(dir->path(), "[images.list]");
  REQUIRE_FALSE(ext);
  CHECK(ext.error().message.find("p.yaml:3:17: error: image list 'images.list' must be a '.txt' file") !=
        std::string::npos);
  auto dup = load_with(dir->path(), "[a/x.txt, b/x.txt]");
  REQUIRE_FALSE(dup);
  CHECK(dup.error().message.find("p.yaml:3:26: error: image list name 'x.txt' is used twice") !=
        std::string::npos);
}
