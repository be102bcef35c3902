// Signature checks with real gpg/gpgv: keys made in a throwaway GNUPGHOME (ed25519, no passphrase),
// then each refusal the base image path must make, and through fetch_artifact: nothing cached.
#include "base/signature.hpp"

#include <catch2/catch.hpp>

#include "base/fetch.hpp"
#include "base/keyring.hpp"
#include "binder_paths.h"
#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/hash.hpp"
#include "support/skip.hpp"

using namespace binder;
using namespace binder::base;
namespace cfs = binder::common::fs;
namespace exec = binder::common::exec;
namespace stdfs = std::filesystem;

namespace {

// One throwaway GNUPGHOME with a signing key; `fpr` is its fingerprint.
struct TestKey {
  cfs::TempDir home;
  std::string fpr;
  std::string keyring;  // binary export
  std::string armored;  // armored export

  static TestKey make(const std::string& uid) {
    auto home = cfs::TempDir::create("sigtest-gnupg");
    REQUIRE(home);
    stdfs::permissions(home->path(), stdfs::perms::owner_all);
    auto gpg = [&](std::vector<std::string> args) {
      std::vector<std::string> argv{"gpg", "--batch", "--quiet", "--homedir", home->path().string()};
      argv.insert(argv.end(), args.begin(), args.end());
      auto r = exec::run(argv, {.timeout = std::chrono::seconds(120)});
      REQUIRE(r);
      INFO(r->err);
      REQUIRE(r->exit_code == 0);
      return r->out;
    };
    gpg({"--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"});
    std::string listing = gpg({"--with-colons", "--list-keys", uid});
    std::string fpr;
    auto at = listing.find("\nfpr:");
    REQUIRE(at != std::string::npos);
    auto line = listing.substr(at + 1, listing.find('\n', at + 1) - at - 1);
    fpr = line.substr(line.rfind(':', line.size() - 2) + 1);
    fpr.erase(fpr.find(':'));
    std::string binary = gpg({"--export", uid});
    std::string armored = gpg({"--armor", "--export", uid});
    TestKey k{std::move(*home), fpr, binary, armored};
    k.stop_agent();
    return k;
  }

  std::string sign(const std::string& data) const {
    auto in = home.path() / "in";
    auto out = home.path() / "in.gpg";
    REQUIRE(cfs::write_file_atomic(in, data));
    stdfs::remove(out);
    auto r = exec::run({"gpg", "--batch", "--quiet", "--homedir", home.path().string(), "--detach-sign",
                        "--output", out.string(), in.string()},
                       {.timeout = std::chrono::seconds(60)});
    REQUIRE(r);
    REQUIRE(r->exit_code == 0);
    auto sig = cfs::read_file(out);
    REQUIRE(sig);
    stop_agent();
    return *sig;
  }

  // gpg starts an agent per home directory; stop it before the directory goes.
  void stop_agent() const {
    (void)exec::run({"gpgconf", "--homedir", home.path().string(), "--kill", "gpg-agent"},
                    {.timeout = std::chrono::seconds(30)});
  }
};

bool have_gpg() { return exec::find_program("gpg") && exec::find_program("gpgv"); }

SignedData input(const std::string& data, const std::string& sig, const std::string& keyring) {
  return SignedData{data, "SHA256SUMS", sig, "SHA256SUMS.gpg", keyring, "keyring.gpg", ""};
}

}  // namespace

TEST_CASE("verify_detached_signature accepts a good signature and refuses each bad one", "[signature]") {
  if (!have_gpg()) {
    BINDER_SKIP_MISSING_TOOL("gpgv");
  }
  TestKey signer = TestKey::make("binder test signer <signer@example.invalid>");
  TestKey other = TestKey::make("binder other key <other@example.invalid>");
  std::string sums = "0123  disk.img\n";
  std::string sig = signer.sign(sums);

  SECTION("good signature, binary and armored keyring, pinned fingerprint") {
    auto r = verify_detached_signature(input(sums, sig, signer.keyring));
    REQUIRE(r);
    CHECK(*r == signer.fpr);
    CHECK(verify_detached_signature(input(sums, sig, signer.armored)));
    auto pinned = input(sums, sig, signer.keyring);
    pinned.fingerprint = signer.fpr;
    CHECK(verify_detached_signature(pinned));
  }
  SECTION("tampered list: bad signature") {
    auto r = verify_detached_signature(input("0124  disk.img\n", sig, signer.keyring));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == common::Errc::checksum);
    CHECK_THAT(r.error().message, Catch::Contains("bad signature") && Catch::Contains("'SHA256SUMS'") &&
                                      Catch::Contains("SHA256SUMS.gpg"));
  }
  SECTION("wrong key: signer not in the keyring") {
    auto r = verify_detached_signature(input(sums, sig, other.keyring));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == common::Errc::checksum);
    CHECK_THAT(r.error().message, Catch::Contains("which is not in keyring 'keyring.gpg'"));
  }
  SECTION("signed by another key of the keyring than the pinned one") {
    std::string keyring = signer.keyring + other.keyring;  // SignedData holds views
    auto both = input(sums, sig, keyring);
    both.fingerprint = other.fpr;
    auto r = verify_detached_signature(both);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("expected " + other.fpr));
  }
  SECTION("not a signature") {
    auto r = verify_detached_signature(input(sums, "garbage\n", signer.keyring));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == common::Errc::checksum);
    CHECK_THAT(r.error().message, Catch::Contains("signature check of 'SHA256SUMS'"));
  }
  SECTION("the real Ubuntu keyring does not accept a test signature") {
    auto r = verify_detached_signature(input(sums, sig, std::string(ubuntu_cloudimage_keyring())));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("not in keyring"));
  }
}

TEST_CASE("fetch_artifact checks the SHA256SUMS signature before trusting it, and refusals cache nothing",
          "[signature][fetch]") {
  if (!have_gpg()) {
    BINDER_SKIP_MISSING_TOOL("gpgv");
  }
  TestKey signer = TestKey::make("binder test signer <signer@example.invalid>");
  TestKey other = TestKey::make("binder other key <other@example.invalid>");
  auto dir = cfs::TempDir::create("sigtest-fetch");
  REQUIRE(dir);
  auto d = dir->path();
  std::string image = std::string(4096, 'x') + "image";
  REQUIRE(cfs::write_file_atomic(d / "disk.img", image));
  std::string sums = common::hash::sha256_hex(image) + " *disk.img\n";
  REQUIRE(cfs::write_file_atomic(d / "SHA256SUMS", sums));
  REQUIRE(cfs::write_file_atomic(d / "SHA256SUMS.gpg", signer.sign(sums)));
  REQUIRE(cfs::write_file_atomic(d / "signer.gpg", signer.keyring));
  REQUIRE(cfs::write_file_atomic(d / "other.gpg", other.keyring));
  CacheDir cache{d / "cache"};
  ArtifactSource src;
  src.url = "file://" + (d / "disk.img").string();
  src.sha256sums = (d / "SHA256SUMS").string();
  src.signature = "file://" + (d / "SHA256SUMS.gpg").string();
  src.keyring = (d / "signer.gpg").string();
  auto nothing_cached = [&] {
    std::error_code ec;
    for (auto it = stdfs::recursive_directory_iterator(cache.downloads(), ec);
         !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().parent_path().filename() != ".locks") {
        return false;
      }
    }
    return true;
  };

  SECTION("good") {
    auto r = fetch_artifact(src, cache);
    REQUIRE(r);
    CHECK(r->sha256 == common::hash::sha256_hex(image));
  }
  SECTION("wrong key") {
    src.keyring = (d / "other.gpg").string();
    auto r = fetch_artifact(src, cache);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == common::Errc::checksum);
    CHECK(common::exit_code_for(r.error()) == 1);
    CHECK_THAT(r.error().to_string(), Catch::Contains("not in keyring '" + (d / "other.gpg").string()));
    CHECK(nothing_cached());
  }
  SECTION("tampered SHA256SUMS") {
    REQUIRE(cfs::write_file_atomic(d / "SHA256SUMS", std::string(64, 'a') + " *disk.img\n"));
    auto r = fetch_artifact(src, cache);
    REQUIRE_FALSE(r);
    CHECK(common::exit_code_for(r.error()) == 1);
    CHECK_THAT(r.error().to_string(),
               Catch::Contains("bad signature") && Catch::Contains((d / "SHA256SUMS").string()));
    CHECK(nothing_cached());
  }
  SECTION("tampered image") {
    REQUIRE(cfs::write_file_atomic(d / "disk.img", image + "!"));
    auto r = fetch_artifact(src, cache);
    REQUIRE_FALSE(r);
    CHECK(common::exit_code_for(r.error()) == 1);
    CHECK_THAT(r.error().to_string(), Catch::Contains("checksum mismatch for '" + src.url));
    CHECK(nothing_cached());
  }
  SECTION("a signature without a keyring is a configuration error") {
    src.keyring.clear();
    auto r = fetch_artifact(src, cache);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == common::Errc::invalid_config);
  }
}
