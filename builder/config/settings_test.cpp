// The settings table: generated docs stay current, every setting is wired, and canonical
// settings (layer cache keys) ignore YAML layout but change with every real value.
#include "config/settings.hpp"

#include <cstdlib>
#include <filesystem>
#include <set>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "config/load.hpp"

using namespace binder::config;
namespace stdfs = std::filesystem;

namespace {

const stdfs::path k_settings_src = BINDER_SOURCE_DIR;
const LayerKind k_layers[] = {LayerKind::base, LayerKind::system, LayerKind::charts, LayerKind::final,
                              LayerKind::export_};

Profile load_settings_ok(const stdfs::path& p, const std::vector<std::string>& overrides = {}) {
  setenv("BINDER_TEST_ROOTFS", "/tmp/binder-test/rootfs.tar.zst", 1);
  setenv("BINDER_TEST_ARTIFACTS", "/tmp/binder-test/artifacts", 1);
  setenv("BINDER_TEST_CHARTS", "/tmp/binder-test/charts", 1);
  auto r = load_profile(p, overrides);
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r.has_value());
  return *r;
}

}  // namespace

TEST_CASE("settings: profiles/README.md equals the generated reference", "[config]") {
  const stdfs::path readme = k_settings_src / "profiles/README.md";
  if (std::getenv("BINDER_UPDATE_GOLDEN") != nullptr) {
    REQUIRE(binder::common::fs::write_file_atomic(readme, render_docs()));
  }
  auto text = binder::common::fs::read_file(readme);
  REQUIRE(text);
  CHECK(*text == render_docs());
}

TEST_CASE("settings: every entry is unique, documented and wired", "[config]") {
  std::set<std::string_view> keys;
  for (const SettingSpec& s : settings()) {
    INFO(s.key);
    CHECK(keys.insert(s.key).second);
    CHECK_FALSE(s.help.empty());
    CHECK(s.parse != nullptr);
    bool container =
        s.kind == ValueKind::section || s.kind == ValueKind::list || s.kind == ValueKind::extends;
    // A value either feeds a layer's cache key (it renders) or says it affects none.
    if (!container && s.affects != LayerKind::none) {
      CHECK(s.render != nullptr);
    }
    if (s.kind == ValueKind::enumeration) {
      CHECK_FALSE(s.choices.empty());
    }
  }
  CHECK(find_setting("k3s.binary.sha256sums") != nullptr);
  CHECK(find_setting("outputs[].compression") != nullptr);
  CHECK(setting_keys().size() == settings().size());
}

TEST_CASE("settings: canonical text ignores comments, key order and spelling of values", "[config]") {
  Profile a = load_settings_ok(k_settings_src / "tests/fixtures/profiles/good/order-a.yaml");
  Profile b = load_settings_ok(k_settings_src / "tests/fixtures/profiles/good/order-b.yaml");
  CHECK(a.disk.size.loc.line != b.disk.size.loc.line);
  for (LayerKind l : k_layers) {
    INFO(to_string(l));
    CHECK(canonical_settings(a, l) == canonical_settings(b, l));
  }
}

TEST_CASE("settings: canonical text changes with every real value, in its layer only", "[config]") {
  const stdfs::path profile = k_settings_src / "profiles/base.yaml";
  Profile ref = load_settings_ok(profile);
  const std::string sha(64, 'a');
  struct Case {
    std::string set;
    LayerKind layer;
  };
  const std::vector<Case> cases = {
      {"base.image=ubuntu-22.04", LayerKind::base},
      {"base={url: https://example.org/x.img, sha256: " + sha + "}", LayerKind::base},
      {"disk.size=21G", LayerKind::base},
      {"k3s.version=v1.33.6+k3s1", LayerKind::system},
      {"k3s.install=false", LayerKind::system},
      {"k3s.binary={url: https://example.org/k3s, sha256: " + sha + "}", LayerKind::system},
      {"k3s.airgap_images=null", LayerKind::system},
      {"k3s.upgrade.enable=false", LayerKind::system},
      {"k3s.upgrade.channel=v1.33.6+k3s1", LayerKind::system},
      {"k3s.upgrade.controller_version=v0.20.2", LayerKind::system},
      {"k3s.upgrade.controller_url=file:///srv/suc.yaml", LayerKind::system},
      {"k3s.upgrade.controller_sha256=" + sha, LayerKind::system},
      {"k3s.upgrade.crd_url=https://example.org/crd.yaml", LayerKind::system},
      {"k3s.upgrade.crd_sha256=" + sha, LayerKind::system},
      {"sysctls.fs.inotify.max_user_watches=1", LayerKind::system},
      {"sysctls.vm.swappiness=1", LayerKind::system},
      {"cloud_init.datasources=[Ec2]", LayerKind::system},
      {"ntp=[time.example.org]", LayerKind::system},
      {"reproducible.source_date_epoch=1", LayerKind::system},
      {"charts.mybinder.enable=false", LayerKind::charts},
      {"charts.mybinder.commit=" + std::string(40, 'b'), LayerKind::charts},
      {"charts.mybinder.sha256=" + sha, LayerKind::charts},
      {"charts.mybinder.version=1.2.3", LayerKind::charts},
      {"charts.mybinder.images={podLogs.image: \"a/b:1\"}", LayerKind::charts},
      {"charts.cert_manager.version=v1.21.1", LayerKind::charts},
      {"charts.cert_manager.crds_sha256=" + sha, LayerKind::charts},
      {"charts.repository_mirrors={\"oci://\": \"file:///srv/charts/\"}", LayerKind::charts},
      {"name=other", LayerKind::final},
      {"description=other", LayerKind::final},
      {"kubelet.max_pods_per_gib=2", LayerKind::final},
      {"kubelet.image_gc_high=50", LayerKind::final},
      {"kubelet.image_gc_low=10", LayerKind::final},
      {"overlays=[common, test]", LayerKind::final},
      {"firstboot.enable=false", LayerKind::final},
      {"firstboot.binary=/usr/bin/true", LayerKind::final},
      {"member.allow_baked_secrets=true", LayerKind::final},
      {"outputs=[{format: raw}]", LayerKind::export_},
      {"outputs=[{format: qcow2, compression: zlib}]", LayerKind::export_},
      {"outputs=[{format: qcow2, compression: zstd, name: x}]", LayerKind::export_},
  };
  for (const Case& c : cases) {
    INFO(c.set);
    Profile p = load_settings_ok(profile, {c.set});
    for (LayerKind l : k_layers) {
      INFO(to_string(l));
      CHECK((canonical_settings(p, l) != canonical_settings(ref, l)) == (l == c.layer));
    }
  }
  // required_packages is a check on the base, not an input of any layer.
  Profile pk = load_settings_ok(profile, {"required_packages=[xfsprogs]"});
  for (LayerKind l : k_layers) {
    CHECK(canonical_settings(pk, l) == canonical_settings(ref, l));
  }
}

TEST_CASE("settings: canonical text holds no source locations", "[config]") {
  Profile p = load_settings_ok(k_settings_src / "profiles/ovh.yaml");
  for (LayerKind l : k_layers) {
    std::string c = canonical_settings(p, l);
    CHECK(c.find(".yaml:") == std::string::npos);
    CHECK(c.starts_with("binder-settings-v1 layer="));
  }
}
