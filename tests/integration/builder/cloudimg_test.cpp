// The cloud image path end to end: ci/make-test-cloudimg's Ubuntu-shaped signed image served over
// HTTPS on 127.0.0.1 (tests/support/fakes/file_server.py, test CA via SSL_CERT_FILE) and built
// with profiles/debian-12-cloudimg-test.yaml: signature and checksum verified, root grown on the
// host, no appliance launch, inspect all ok, and two --no-cache builds byte-identical. A refused
// signature stops the build with exit 1 and caches nothing.
#include <catch2/catch.hpp>

#include "builder_fixture.hpp"
#include "support/file_server.hpp"
#include "support/test_ca.hpp"

using namespace builder_it;

namespace {

constexpr const char* k_release = "/releases/noble/release-20260926";

std::size_t cached_downloads(const stdfs::path& cache) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(cache / "binder-image/downloads", ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    n += it->is_regular_file() && it->path().parent_path().filename() != ".locks" ? 1 : 0;
  }
  return n;
}

}  // namespace

TEST_CASE("builder: the Ubuntu-shaped cloud image builds launch-free, verified and reproducible",
          "[builder][cloudimg][slow]") {
  stdfs::path images = env_or_script("BINDER_TEST_CLOUDIMG", "make-test-cloudimg");
  auto pki = binder::test::TestPki::create();
  binder::test::FileServer server(images, pki.server_cert(), pki.server_key(), k_release);
  stdfs::path dir = k_dir / "cloudimg";
  REQUIRE(fs::remove_tree(dir));
  std::map<std::string, std::string> env{{"BINDER_TEST_CLOUDIMG_URL", server.url()},
                                         {"SSL_CERT_FILE", pki.ca_cert().string()},
                                         {"XDG_CACHE_HOME", (dir / "cache").string()}};
  stdfs::path profile = k_src / "profiles/debian-12-cloudimg-test.yaml";

  // A keyring without the signer: exit 1 naming the list and the check, nothing downloaded.
  auto refused = run_binder({"build", profile.string(), "--output", (dir / "refused").string(), "--set",
                             "base.keyring=builtin:ubuntu-cloudimage"},
                            std::chrono::seconds(600), env);
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("signature check of '" + server.url() + "/SHA256SUMS'") &&
                              Catch::Contains("not in keyring 'builtin:ubuntu-cloudimage'"));
  CHECK(cached_downloads(dir / "cache") == 0);

  std::vector<stdfs::path> outputs;
  for (const char* name : {"a", "b"}) {
    auto r = run_binder({"build", profile.string(), "--output", (dir / name).string(), "--no-cache",
                         "--accel", "tcg", "--json"},
                        std::chrono::seconds(1080), env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto done = done_event(r.out);
    CHECK(done["launches"] == 0);
    CHECK(done["layers_built"] == 4);
    outputs.push_back(dir / name / "debian-12-cloudimg-test.qcow2");
  }
  CHECK(binder::common::hash::sha256_file(outputs[0]).value() ==
        binder::common::hash::sha256_file(outputs[1]).value());

  // The root grew to disk.size (3 GiB) and keeps Ubuntu's layout; inspect finds every check ok.
  auto info = exec::run_checked({"qemu-img", "info", "--output=json", outputs[0].string()});
  REQUIRE(info);
  CHECK(nlohmann::json::parse(info->out)["virtual-size"] == 3ull << 30);
  auto inspect = run_binder({"inspect", outputs[0].string(), "--json", "--accel", "tcg"},
                            std::chrono::seconds(600), env);
  INFO(inspect.out << inspect.err);
  REQUIRE(inspect.exit_code == 0);
  auto j = nlohmann::json::parse(inspect.out);
  CHECK(j["ok"] == true);
  for (const auto& c : j["checks"]) {
    INFO(c.dump());
    CHECK(c.value("ok", false));
  }
}
