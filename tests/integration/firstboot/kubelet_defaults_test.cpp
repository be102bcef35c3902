// The profile's kubelet.* settings reach the machine: the builder's build.json (the same
// function the final layer bakes with) read by the agent's loader ends up in the kubelet drop-in
// the k3s step writes; the metadata's node.max_pods_per_gib still wins.
#include <cstdlib>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "config/load.hpp"
#include "firstboot/image_defaults.hpp"
#include "firstboot/k3s/k3s_files.hpp"
#include "firstboot/k3s/k3s_steps.hpp"
#include "layers/steps/final_files.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder;
using firstboot::testing::TestRoot;

TEST_CASE("kubelet defaults: a non-default profile kubelet.* ends up in the rendered kubelet drop-in",
          "[firstboot][kubelet]") {
  setenv("BINDER_TEST_ROOTFS", "/tmp/binder-test/rootfs.tar.zst", 1);
  setenv("BINDER_TEST_ARTIFACTS", "/tmp/binder-test/artifacts", 1);
  setenv("BINDER_TEST_CHARTS", "/tmp/binder-test/charts", 1);
  auto profile = config::load_profile(
      std::filesystem::path(BINDER_SOURCE_DIR) / "profiles/base.yaml",
      {"kubelet.max_pods_per_gib=2.5", "kubelet.image_gc_high=70", "kubelet.image_gc_low=45"});
  INFO((profile ? std::string() : profile.error().message));
  REQUIRE(profile);
  layers::ResolvedInputs inputs;
  std::string baked = layers::steps::build_json(*profile, inputs);

  firstboot::MachineFacts facts;
  facts.ram_bytes = 64ull << 30;
  facts.cpus = 16;
  firstboot::Member member;
  member.name = "example";
  member.domain = "mybinder.org";
  TestRoot t(member, facts);
  t.write(std::string("/") + layers::steps::k_build_json_path, baked);
  auto kubelet = firstboot::read_image_kubelet(t.dir.path());
  REQUIRE(kubelet);
  t.env->facts.kubelet = *kubelet;

  auto step = firstboot::k3s::make_kubelet_step();
  REQUIRE(step->apply(*t.env));
  std::string text = t.read(firstboot::k3s::k_kubelet_path);
  CHECK(text.find("\nmaxPods: 160\n") != std::string::npos);  // 2.5 x 64
  CHECK(text.find("imageGCHighThresholdPercent: 70\nimageGCLowThresholdPercent: 45\n") != std::string::npos);

  t.env->member.node.max_pods_per_gib = 1.75;  // the metadata overrides the image's factor
  REQUIRE(step->apply(*t.env));
  CHECK(t.read(firstboot::k3s::k_kubelet_path).find("\nmaxPods: 112\n") != std::string::npos);
}
