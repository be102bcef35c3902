// The image's kubelet defaults (build.json) as the agent reads them.
#include "firstboot/image_defaults.hpp"

#include <catch2/catch.hpp>

#include "common/fs.hpp"

using namespace binder::firstboot;
namespace fs = binder::common::fs;

namespace {

void write_build_json(const std::filesystem::path& root, const std::string& text) {
  REQUIRE(fs::make_directories(root / "etc/binder-image", 0755));
  REQUIRE(fs::write_file_atomic(root / "etc/binder-image/build.json", text, 0644));
}

}  // namespace

TEST_CASE("image defaults: build.json's kubelet section, none gives the built-in values",
          "[image-defaults]") {
  auto root = *fs::TempDir::create("image-defaults");
  auto none = read_image_kubelet(root.path());
  REQUIRE(none);
  CHECK(none->max_pods_per_gib == 1.75);
  CHECK(none->image_gc_high == 40);
  CHECK(none->image_gc_low == 20);

  write_build_json(root.path(), R"({"format": "binder-build-v1", "kubelet": {"max_pods_per_gib": 2.25,
      "image_gc_high": 65, "image_gc_low": 45}})");
  auto d = read_image_kubelet(root.path());
  REQUIRE(d);
  CHECK(d->max_pods_per_gib == 2.25);
  CHECK(d->image_gc_high == 65);
  CHECK(d->image_gc_low == 45);
  CHECK(d->source.find("build.json") != std::string::npos);

  write_build_json(root.path(), R"({"format": "binder-build-v1"})");
  REQUIRE(read_image_kubelet(root.path()));
  CHECK(read_image_kubelet(root.path())->image_gc_high == 40);
}

TEST_CASE("image defaults: bad values name the file and the key", "[image-defaults]") {
  auto root = *fs::TempDir::create("image-defaults-bad");
  struct Case {
    const char* text;
    const char* key;
  };
  for (const Case& c : {Case{"{not json", "not a JSON object"}, Case{R"({"kubelet": 3})", "'kubelet'"},
                        Case{R"({"kubelet": {"max_pods_per_gib": -1}})", "kubelet.max_pods_per_gib"},
                        Case{R"({"kubelet": {"image_gc_high": "40"}})", "kubelet.image_gc_high"},
                        Case{R"({"kubelet": {"image_gc_low": 101}})", "kubelet.image_gc_low"},
                        Case{R"({"kubelet": {"image_gc_high": 30, "image_gc_low": 30}})", "must be below"}}) {
    INFO(c.text);
    write_build_json(root.path(), c.text);
    auto r = read_image_kubelet(root.path());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == binder::common::Errc::invalid_config);
    CHECK(r.error().to_string().find("build.json") != std::string::npos);
    CHECK(r.error().to_string().find(c.key) != std::string::npos);
  }
}
