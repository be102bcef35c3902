// Loading real profiles (profiles/*.yaml) and good fixtures: defaults, extends, locations,
// overrides, path resolution.
#include "config/load.hpp"

#include <cstdlib>
#include <filesystem>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "config/settings.hpp"

using namespace binder::config;
namespace stdfs = std::filesystem;

namespace {

const stdfs::path k_load_src = BINDER_SOURCE_DIR;

void test_env() {
  setenv("BINDER_TEST_ROOTFS", "/tmp/binder-test/rootfs.tar.zst", 1);
  setenv("BINDER_TEST_ARTIFACTS", "/tmp/binder-test/artifacts", 1);
  setenv("BINDER_TEST_CHARTS", "/tmp/binder-test/charts", 1);
  setenv("BINDER_TEST_CLOUDIMG_URL", "https://127.0.0.1:8443/releases/noble/release-20260926", 1);
}

Profile load_ok(const stdfs::path& p, const std::vector<std::string>& overrides = {}) {
  test_env();
  auto r = load_profile(p, overrides);
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r.has_value());
  return *r;
}

std::vector<std::pair<Format, Compression>> formats(const Profile& p) {
  std::vector<std::pair<Format, Compression>> out;
  for (const auto& o : p.outputs) {
    out.emplace_back(o.format.value, o.compression.value);
  }
  return out;
}

std::vector<std::string> values(const StringList& l) {
  std::vector<std::string> out;
  for (const auto& v : l.value) {
    out.push_back(v.value);
  }
  return out;
}

}  // namespace

TEST_CASE("profiles: every checked-in profile loads", "[config]") {
  for (const auto& e : stdfs::directory_iterator(k_load_src / "profiles")) {
    if (e.path().extension() == ".yaml") {
      INFO(e.path().string());
      load_ok(e.path());
    }
  }
}

TEST_CASE("profiles: base is the Ubuntu 24.04 catalog image with release k3s", "[config]") {
  Profile p = load_ok(k_load_src / "profiles/base.yaml");
  CHECK(p.base.kind.value == BaseKind::image);
  // A pinned release serial (not noble/current/), its SHA256SUMS signed by Ubuntu's key.
  CHECK(
      p.base.artifact.url.value ==
      "https://cloud-images.ubuntu.com/releases/noble/release-20260926/ubuntu-24.04-server-cloudimg-amd64.img");
  CHECK(p.base.artifact.checksum.sha256sums.value ==
        "https://cloud-images.ubuntu.com/releases/noble/release-20260926/SHA256SUMS");
  CHECK(p.base.artifact.checksum.signature.value ==
        "https://cloud-images.ubuntu.com/releases/noble/release-20260926/SHA256SUMS.gpg");
  CHECK(p.base.artifact.checksum.keyring.value == "builtin:ubuntu-cloudimage");
  CHECK(p.base.artifact.checksum.signing_key == "D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81");
  CHECK(p.base.artifact.basename() == "ubuntu-24.04-server-cloudimg-amd64.img");
  CHECK(p.disk.size.value == 20ull << 30);
  CHECK(p.k3s.version.value == "v1.33.5+k3s1");
  CHECK(p.k3s.binary.url.value == "https://github.com/k3s-io/k3s/releases/download/v1.33.5+k3s1/k3s");
  CHECK(p.k3s.binary.checksum.sha256sums.value ==
        "https://github.com/k3s-io/k3s/releases/download/v1.33.5+k3s1/sha256sum-amd64.txt");
  REQUIRE(p.k3s.airgap_images);
  CHECK(p.k3s.airgap_images->basename() == "k3s-airgap-images-amd64.tar.zst");
  CHECK(p.k3s.install.value);
  CHECK(p.sysctls.at("fs.inotify.max_user_watches").value == "524288");
  CHECK(p.sysctls.at("fs.inotify.max_user_instances").loc.line > 0);
  CHECK(p.kubelet.max_pods_per_gib.value == 1.75);
  CHECK(p.kubelet.image_gc_high.value == 40);
  CHECK(p.kubelet.image_gc_low.value == 20);
  REQUIRE(p.overlays.size() == 1);
  CHECK(p.overlays[0].dir == (k_load_src / "overlays/common").lexically_normal());
  CHECK(p.firstboot.enable.value);
  CHECK_FALSE(p.member.allow_baked_secrets.value);
}

TEST_CASE("profiles: providers choose formats, datasources and NTP", "[config]") {
  using F = Format;
  using C = Compression;
  auto p = [](const char* name) { return load_ok(k_load_src / "profiles" / name); };
  Profile ovh = p("ovh.yaml");
  CHECK(formats(ovh) == std::vector<std::pair<F, C>>{{F::qcow2, C::zstd}});
  CHECK(values(ovh.cloud_init.datasources) ==
        std::vector<std::string>{"OpenStack", "ConfigDrive", "NoCloud", "None"});
  CHECK(values(ovh.ntp) == std::vector<std::string>{"ntp.ovh.net"});
  CHECK(ovh.files.size() == 3);  // base, openstack, ovh
  CHECK(formats(p("hetzner.yaml")) == std::vector<std::pair<F, C>>{{F::raw, C::zstd}, {F::raw, C::xz}});
  CHECK(formats(p("aws.yaml")) == std::vector<std::pair<F, C>>{{F::raw, C::none}, {F::vmdk, C::none}});
  CHECK(formats(p("gcp.yaml")) == std::vector<std::pair<F, C>>{{F::gcp_tar, C::gzip}});
  CHECK(formats(p("azure.yaml")) == std::vector<std::pair<F, C>>{{F::vhd, C::none}});
  CHECK(formats(p("vmware.yaml")) == std::vector<std::pair<F, C>>{{F::ova, C::none}});
  CHECK(values(p("aws.yaml").ntp) == std::vector<std::string>{"169.254.169.123"});
  CHECK(values(p("gcp.yaml").cloud_init.datasources) == std::vector<std::string>{"GCE", "None"});
}

TEST_CASE("profiles: debian-12-test takes its inputs from the environment", "[config]") {
  Profile p = load_ok(k_load_src / "profiles/debian-12-test.yaml");
  CHECK(p.base.kind.value == BaseKind::rootfs);
  CHECK(p.base.artifact.file.value == "/tmp/binder-test/rootfs.tar.zst");
  CHECK(p.disk.size.value == 3ull << 30);
  CHECK(p.k3s.binary.file.value == "/tmp/binder-test/artifacts/k3s");
  CHECK(p.k3s.binary.checksum.sha256sums.value == "/tmp/binder-test/artifacts/sha256sum-amd64.txt");
  CHECK(p.k3s.airgap_images->file.value == "/tmp/binder-test/artifacts/k3s-airgap-images-amd64.tar.zst");
  CHECK(values(p.ntp) == std::vector<std::string>{"ntp.example.test"});
  Profile smoke = load_ok(k_load_src / "profiles/debian-12-smoke.yaml");
  REQUIRE(smoke.overlays.size() == 2);
  CHECK(smoke.overlays[1].dir == (k_load_src / "overlays/test").lexically_normal());
  CHECK(smoke.name.value == "debian-12-smoke");
  CHECK(smoke.name.loc.path.ends_with("debian-12-smoke.yaml"));
  CHECK(smoke.disk.size.loc.path.ends_with("debian-12-test.yaml"));
  CHECK(smoke.disk.size.loc.line == 10);
  CHECK(smoke.disk.size.loc.col == 9);
}

TEST_CASE("profiles: --set overrides win and are located", "[config]") {
  std::vector<std::string> o;
  REQUIRE(apply_override(o, "disk.size=30G"));
  REQUIRE(apply_override(o, "overlays=[common, test]"));
  REQUIRE(apply_override(o, "sysctls.vm.max_map_count=262144"));
  REQUIRE(apply_override(o, "outputs=[{format: raw, compression: xz}]"));
  REQUIRE(apply_override(o, "k3s.binary={file: k3s, sha256: " + std::string(64, 'a') + "}"));
  Profile p = load_ok(k_load_src / "profiles/ovh.yaml", o);
  CHECK(p.disk.size.value == 30ull << 30);
  CHECK(p.disk.size.loc.path == "--set disk.size");
  CHECK(p.sysctls.at("vm.max_map_count").value == "262144");
  REQUIRE(p.overlays.size() == 2);
  CHECK(p.overlays[1].dir == (k_load_src / "overlays/test").lexically_normal());
  CHECK(p.sysctls.size() == 3);
  CHECK(formats(p) == std::vector<std::pair<Format, Compression>>{{Format::raw, Compression::xz}});
  CHECK(p.k3s.binary.file.value == (stdfs::current_path() / "k3s").lexically_normal());
  CHECK(p.k3s.binary.url.value.empty());
  auto bad = apply_override(o, "disk.sise=1G");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "unknown setting 'disk.sise' in --set, did you mean 'disk.size'?");
  CHECK_FALSE(apply_override(o, "novalue"));
}

TEST_CASE("profiles: good fixtures load", "[config]") {
  for (const auto& e : stdfs::directory_iterator(k_load_src / "tests/fixtures/profiles/good")) {
    if (e.path().extension() == ".yaml") {
      INFO(e.path().string());
      load_ok(e.path());
    }
  }
}

TEST_CASE("profiles: show-config prints every value with its origin", "[config]") {
  Profile p = load_ok(k_load_src / "profiles/ovh.yaml");
  std::string s = show_config(p);
  CHECK(s.find("ntp = [ntp.ovh.net]") != std::string::npos);
  CHECK(s.find("profiles/ovh.yaml:6:6") != std::string::npos);
  CHECK(s.find("kubelet.image_gc_low = 20") != std::string::npos);
  CHECK(s.find("firstboot.enable = true") != std::string::npos);
  CHECK(s.find("# <default>") != std::string::npos);
}

TEST_CASE("profiles: the full fixture sets every kind of value", "[config]") {
  Profile p = load_ok(k_load_src / "tests/fixtures/profiles/good/full.yaml");
  CHECK(p.files.size() == 3);  // base, parts/ntp, full
  CHECK(p.base.kind.value == BaseKind::url);
  CHECK(p.base.artifact.basename() == "base.qcow2");
  CHECK(p.k3s.version.value == "v1.32.1+k3s2");
  CHECK(p.k3s.binary.file.value == "/tmp/binder-test/artifacts/k3s");
  CHECK(p.k3s.binary.checksum.sha256.value ==
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  CHECK_FALSE(p.k3s.airgap_images.has_value());
  CHECK(p.sysctls.size() == 3);  // two from base + one
  CHECK(p.kubelet.max_pods_per_gib.value == 2.5);
  CHECK(values(p.ntp) == std::vector<std::string>{"ntp1.example.org", "192.0.2.1"});
  CHECK(p.ntp.loc.path.ends_with("parts/ntp.yaml"));
  CHECK(p.firstboot.binary.value ==
        (k_load_src / "tests/fixtures/profiles/good/bin/binder-firstboot").lexically_normal());
  CHECK_FALSE(p.firstboot.enable.value);
  CHECK(p.reproducible.source_date_epoch.value == 1700000000);
  REQUIRE(p.overlays.size() == 2);
  CHECK(p.overlays[1].dir == (k_load_src / "tests/fixtures/profiles/good/local-overlay").lexically_normal());
  REQUIRE(p.outputs.size() == 5);
  CHECK(p.outputs[0].name.value == "full-zlib");
  CHECK(p.outputs[3].compression.value == Compression::gzip);  // gcp-tar default
  CHECK(p.outputs[3].compression.loc.path == "<default>");
}

TEST_CASE("profiles: --set errors are reported like file errors", "[config]") {
  test_env();
  auto r = load_profile(k_load_src / "profiles/base.yaml", {"disk.size=big", "ntpp=[x]"});
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "--set ntpp: error: unknown key 'ntpp'\n"
        "did you mean 'ntp'?\n"
        "--set disk.size: error: 'disk.size': invalid size 'big': expected a whole number with "
        "an optional K, M, G or T suffix");
}

TEST_CASE("profiles: check_inputs_exist names each missing local input at its line", "[config]") {
  Profile p = load_ok(k_load_src / "profiles/debian-12-test.yaml");
  auto r = check_inputs_exist(p);
  REQUIRE_FALSE(r);
  const std::string& m = r.error().message;
  CHECK(m.find("debian-12-test.yaml:8:14: error: rootfs tarball '/tmp/binder-test/rootfs.tar.zst' "
               "does not exist") != std::string::npos);
  CHECK(m.find("k3s binary '/tmp/binder-test/artifacts/k3s' does not exist") != std::string::npos);
  CHECK(m.find("overlay directory") == std::string::npos);  // overlays/common exists
  Profile base = load_ok(k_load_src / "profiles/base.yaml");
  CHECK(check_inputs_exist(base));  // URLs only, and overlays/common
}

TEST_CASE("profiles: secrets in an allowed member file are listed for redaction", "[config]") {
  Profile p = load_ok(k_load_src / "tests/fixtures/profiles/good/baked-secrets-allowed.yaml");
  auto s = member_secret_values(p);
  REQUIRE(s);
  CHECK(*s == std::vector<std::string>{"cf-test-token"});
  Profile none = load_ok(k_load_src / "profiles/base.yaml");
  CHECK(member_secret_values(none).value().empty());
}

TEST_CASE("profiles: base.signature and base.keyring", "[config][signature]") {
  // The cloud image test profile: every signature input by URL, as the catalog sets them.
  Profile t = load_ok(k_load_src / "profiles/debian-12-cloudimg-test.yaml");
  CHECK(t.base.kind.value == BaseKind::url);
  CHECK(t.base.artifact.checksum.signature.value ==
        "https://127.0.0.1:8443/releases/noble/release-20260926/SHA256SUMS.gpg");
  CHECK(t.base.artifact.checksum.keyring.value ==
        "https://127.0.0.1:8443/releases/noble/release-20260926/keyring.gpg");
  CHECK(t.base.artifact.checksum.signing_key.empty());
  // A catalog image with its own keyring keeps the catalog's list but not its signature pin.
  Profile own = load_ok(
      k_load_src / "profiles/base.yaml",
      {"base={image: ubuntu-24.04, signature: https://x.test/S.gpg, keyring: builtin:ubuntu-cloudimage}"});
  CHECK(own.base.artifact.checksum.signature.value == "https://x.test/S.gpg");
  CHECK(own.base.artifact.checksum.signing_key.empty());
  auto bad = [&](const std::string& base) {
    test_env();
    auto r = load_profile(k_load_src / "profiles/base.yaml", {"base=" + base});
    REQUIRE_FALSE(r);
    return r.error().message;
  };
  CHECK_THAT(
      bad("{url: https://x.test/a.img, sha256sums: https://x.test/S, signature: https://x.test/S.gpg}"),
      Catch::Contains("'base.signature' needs 'base.keyring'"));
  CHECK_THAT(bad("{url: https://x.test/a.img, sha256sums: https://x.test/S, keyring: https://x.test/k.gpg}"),
             Catch::Contains("'base.keyring' needs 'base.signature'"));
  CHECK_THAT(bad("{url: https://x.test/a.img, sha256: " + std::string(64, 'a') +
                 ", signature: https://x.test/S.gpg, keyring: https://x.test/k.gpg}"),
             Catch::Contains("give 'base.sha256sums' too"));
}
