// Layer digests and the cache without a VM: the steps are hashed for real (profile loaded from
// YAML, input files in a temp dir); builds use a fake step that writes bytes.
#include "layers/layer_plan.hpp"

#include <cstdlib>

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "config/load.hpp"

using namespace binder;
using namespace binder::layers;
namespace stdfs = std::filesystem;
namespace fs = common::fs;

namespace {

constexpr const char* k_profile = R"(name: t
base:
  rootfs:
    tarball: ${T}/rootfs.tar
disk: {size: 3G}
k3s:
  version: v1.33.5+k3s1
  binary:
    file: ${T}/k3s
    sha256: 0000000000000000000000000000000000000000000000000000000000000000
  airgap_images: null
sysctls: {a.b: 1, c.d: 2}
cloud_init: {datasources: [NoCloud, None]}
overlays: [common]
outputs: [{format: qcow2}]
)";

// Same settings, other key order, comments added.
constexpr const char* k_profile_reordered = R"(# a comment
outputs: [{format: qcow2}]
overlays: [common]   # trailing comment
sysctls: {c.d: 2, a.b: 1}
cloud_init: {datasources: [NoCloud, None]}
k3s:
  airgap_images: null
  binary:
    sha256: 0000000000000000000000000000000000000000000000000000000000000000   # pinned
    file: ${T}/k3s
  version: v1.33.5+k3s1
disk: {size: 3G}
base:
  rootfs:
    tarball: ${T}/rootfs.tar
name: t
)";

struct Fixture {
  fs::TempDir dir = fs::TempDir::create("layers-test").value();
  stdfs::path root = dir.path();
  ResolvedInputs inputs;

  Fixture() {
    ::setenv("T", root.c_str(), 1);
    REQUIRE(fs::write_file_atomic(root / "overlays/common/etc/motd", "hello\n"));
    REQUIRE(fs::write_file_atomic(root / "k3s", "k3s-binary"));
    REQUIRE(fs::write_file_atomic(root / "fb", "firstboot-binary", 0755));
    inputs.base = {root / "rootfs.tar", std::string(64, 'a'), "rootfs.tar"};
    inputs.base_is_rootfs = true;
    inputs.k3s_binary = InputFile{root / "k3s", std::string(64, 'b'), "k3s"};
    inputs.firstboot_binary = {root / "fb", std::string(64, 'c'), "binder-firstboot"};
  }

  config::Profile load(const char* text, std::vector<std::string> overrides = {}) {
    REQUIRE(fs::write_file_atomic(root / "profiles/p.yaml", text));
    auto p = config::load_profile(root / "profiles/p.yaml", overrides);
    INFO((p ? "" : p.error().message));
    REQUIRE(p);
    return *p;
  }

  std::vector<std::string> digests(const config::Profile& p, const LayerCache& cache) {
    auto plan = resolve_digests(p, plan_layers(p, inputs), cache);
    REQUIRE(plan);
    std::vector<std::string> out;
    for (const auto& l : plan->layers) {
      out.push_back(l.digest);
    }
    return out;
  }
};

class FakeStep final : public LayerStep {
 public:
  FakeStep(std::string kind, std::string input, bool fail = false)
      : m_kind(std::move(kind)), m_input(std::move(input)), m_fail(fail) {}
  std::string_view kind() const override { return m_kind; }
  std::string describe() const override { return "fake " + m_input; }
  int guest_launches() const override { return 1; }
  Result<void> hash_inputs(common::hash::Transcript& t) override {
    t.add("file:etc/x", m_input);
    return {};
  }
  Result<void> build(const stdfs::path&, const stdfs::path& out, const BuildEnv&) override {
    TRY(fs::write_file_atomic(out, "half a layer"));
    if (m_fail) {
      return common::fail(common::Errc::external_tool, "step failed mid-layer");
    }
    return {};
  }

 private:
  std::string m_kind, m_input;
  bool m_fail;
};

std::vector<std::unique_ptr<LayerStep>> fake_steps(std::string top_input, bool fail = false) {
  std::vector<std::unique_ptr<LayerStep>> s;
  s.push_back(std::make_unique<FakeStep>("base", "b"));
  s.push_back(std::make_unique<FakeStep>("final", std::move(top_input), fail));
  return s;
}

}  // namespace

TEST_CASE("layers: same inputs give the same digests", "[layers]") {
  Fixture f;
  LayerCache cache(f.root / "cache");
  auto p = f.load(k_profile);
  CHECK(f.digests(p, cache) == f.digests(p, cache));
}

TEST_CASE("layers: YAML comments and key order do not change digests", "[layers]") {
  Fixture f;
  LayerCache cache(f.root / "cache");
  auto a = f.digests(f.load(k_profile), cache);
  auto b = f.digests(f.load(k_profile_reordered), cache);
  CHECK(a == b);
}

TEST_CASE("layers: any real input change changes the right digests", "[layers]") {
  Fixture f;
  LayerCache cache(f.root / "cache");
  auto p = f.load(k_profile);
  auto before = f.digests(p, cache);
  REQUIRE(before.size() == 4);  // base, system, charts, final

  SECTION("an overlay file's bytes: only the final layer") {
    REQUIRE(fs::write_file_atomic(f.root / "overlays/common/etc/motd", "changed\n"));
    auto after = f.digests(p, cache);
    CHECK(after[0] == before[0]);
    CHECK(after[1] == before[1]);
    CHECK(after[2] == before[2]);
    CHECK(after[3] != before[3]);
  }
  SECTION("an overlay file's mode: only the final layer") {
    stdfs::permissions(f.root / "overlays/common/etc/motd", stdfs::perms::owner_exec,
                       stdfs::perm_options::add);
    auto after = f.digests(p, cache);
    CHECK(after[1] == before[1]);
    CHECK(after[3] != before[3]);
  }
  SECTION("a sysctl: system and everything above") {
    auto after = f.digests(f.load(k_profile, {"sysctls.a.b=2"}), cache);
    CHECK(after[0] == before[0]);
    CHECK(after[1] != before[1]);
    CHECK(after[3] != before[3]);
  }
  SECTION("the k3s binary's checksum: system and above") {
    f.inputs.k3s_binary->sha256 = std::string(64, 'd');
    auto after = f.digests(p, cache);
    CHECK(after[0] == before[0]);
    CHECK(after[1] != before[1]);
  }
  SECTION("the base: every layer") {
    f.inputs.base.sha256 = std::string(64, 'e');
    auto after = f.digests(p, cache);
    CHECK(after[0] != before[0]);
    CHECK(after[1] != before[1]);
    CHECK(after[3] != before[3]);
  }
  SECTION("the firstboot binary: only the final layer") {
    f.inputs.firstboot_binary.sha256 = std::string(64, 'f');
    auto after = f.digests(p, cache);
    CHECK(after[1] == before[1]);
    CHECK(after[2] == before[2]);
    CHECK(after[3] != before[3]);
  }
  SECTION("the baked charts (a file, or a resolved input such as a dependency digest): charts and above") {
    charts::BakedCharts baked;
    baked.files.push_back({"/etc/binder-image/charts.json", "{}\n", 0644});
    baked.inputs["dependency.harbor"] = "1.18.1 https://helm.goharbor.io sha256:aa";
    f.inputs.charts = baked;
    auto with = f.digests(p, cache);
    CHECK(with[1] == before[1]);
    CHECK(with[2] != before[2]);
    CHECK(with[3] != before[3]);
    f.inputs.charts->inputs["dependency.harbor"] = "1.18.1 https://helm.goharbor.io sha256:bb";
    auto other_digest = f.digests(p, cache);
    CHECK(other_digest[2] != with[2]);
    f.inputs.charts->files[0].data = "{\"x\": 1}\n";
    auto other_file = f.digests(p, cache);
    CHECK(other_file[2] != other_digest[2]);
  }
  SECTION("a charts setting: charts and above") {
    auto after = f.digests(f.load(k_profile, {"charts.mybinder.version=1.2.3"}), cache);
    CHECK(after[1] == before[1]);
    CHECK(after[2] != before[2]);
    CHECK(after[3] != before[3]);
  }
}

TEST_CASE("layers: a step failing mid-layer leaves the cache valid", "[layers]") {
  Fixture f;
  LayerCache cache(f.root / "cache");
  auto p = f.load(k_profile);
  Progress progress(Progress::Mode::json);
  BuildEnv env;

  auto plan = resolve_digests(p, fake_steps("one", true), cache);
  REQUIRE(plan);
  auto r = build_missing_layers(*plan, cache, env, progress);
  REQUIRE_FALSE(r);
  CHECK(r.error().to_string().find("building layer 'final'") != std::string::npos);
  // The base layer was published; the failed one left nothing, not even its partial file.
  CHECK(cache.lookup(plan->layers[0].digest));
  CHECK_FALSE(cache.lookup(plan->layers[1].digest));
  for (const auto& e : stdfs::directory_iterator(cache.dir())) {
    CHECK(e.path().string().find(".partial") == std::string::npos);
    CHECK(e.path().string().find(plan->layers[1].digest) == std::string::npos);
  }
  // A rerun reuses the committed base layer.
  auto again = resolve_digests(p, fake_steps("one"), cache);
  REQUIRE(again);
  CHECK(again->layers[0].hit);
  CHECK_FALSE(again->layers[1].hit);
  REQUIRE(build_missing_layers(*again, cache, env, progress));
  CHECK(cache.lookup(again->layers[1].digest));
}

TEST_CASE("layers: a crash before the commit marker leaves no entry", "[layers]") {
  Fixture f;
  LayerCache cache(f.root / "cache");
  auto p = f.load(k_profile);
  Progress progress(Progress::Mode::json);
  auto plan = resolve_digests(p, fake_steps("one"), cache);
  REQUIRE(plan);
  fs::inject_write_fault(1);  // the first fault point: publishing the base layer's image
  auto r = build_missing_layers(*plan, cache, BuildEnv{}, progress);
  fs::inject_write_fault(0);
  REQUIRE_FALSE(r);
  CHECK(cache.list().empty());
}

TEST_CASE("layers: plan shows hits, and misses with the changed input", "[layers]") {
  Fixture f;
  LayerCache cache(f.root / "cache");
  auto p = f.load(k_profile);
  Progress progress(Progress::Mode::json);
  auto first = resolve_digests(p, fake_steps("one"), cache);
  REQUIRE(first);
  std::string cold = format_plan(*first);
  CHECK(cold.find("no cached 'base' layer") != std::string::npos);
  CHECK(cold.find("2 appliance launches needed") != std::string::npos);
  REQUIRE(build_missing_layers(*first, cache, BuildEnv{}, progress));

  auto same = resolve_digests(p, fake_steps("one"), cache);
  REQUIRE(same);
  CHECK(same->layers[0].hit);
  CHECK(same->layers[1].hit);
  CHECK(format_plan(*same).find("0 appliance launches needed") != std::string::npos);

  auto changed = resolve_digests(p, fake_steps("two"), cache);
  REQUIRE(changed);
  CHECK(changed->layers[0].hit);
  CHECK_FALSE(changed->layers[1].hit);
  std::string text = format_plan(*changed);
  INFO(text);
  CHECK(text.find("final   miss") != std::string::npos);
  CHECK(text.find("file 'etc/x' changed") != std::string::npos);
  CHECK(text.find("1 appliance launch needed") != std::string::npos);
}

TEST_CASE("layers: gc keeps the chains of recent builds, clean removes everything", "[layers]") {
  Fixture f;
  LayerCache cache(f.root / "cache");
  auto p = f.load(k_profile);
  Progress progress(Progress::Mode::json);
  std::vector<std::vector<std::string>> builds;
  for (const char* input : {"one", "two"}) {
    auto plan = resolve_digests(p, fake_steps(input), cache);
    REQUIRE(plan);
    REQUIRE(build_missing_layers(*plan, cache, BuildEnv{}, progress));
    builds.push_back({plan->layers[0].digest, plan->layers[1].digest});
    REQUIRE(cache.record_build("t", builds.back()));
  }
  REQUIRE(cache.list().size() == 3);
  auto report = cache.gc({1, std::chrono::seconds(0)});
  REQUIRE(report);
  CHECK(report->removed == std::vector<std::string>{builds[0][1]});
  CHECK(cache.lookup(builds[1][0]));  // the shared parent stays
  CHECK(cache.lookup(builds[1][1]));
  REQUIRE(cache.clean());
  CHECK(cache.list().empty());
}
