#include "base/keyring.hpp"

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/hash.hpp"

using namespace binder;

TEST_CASE("the built-in Ubuntu keyring is the committed file, with the pinned key", "[signature]") {
  auto file = common::fs::read_file(BINDER_SOURCE_DIR "/builder/base/keys/ubuntu-cloudimage-keyring.gpg");
  REQUIRE(file);
  CHECK(*file == base::ubuntu_cloudimage_keyring());
  CHECK(common::hash::sha256_hex(base::ubuntu_cloudimage_keyring()) ==
        "c2d40d925557dbe9a0745c12ca0dc98bed593ce9a6652f1b2faa1ff0858dbf2f");
  CHECK(base::builtin_keyring("builtin:ubuntu-cloudimage").has_value());
  CHECK_FALSE(base::builtin_keyring("builtin:nope").has_value());
  if (common::exec::find_program("gpg")) {
    auto home = common::fs::TempDir::create("keyring-test");
    REQUIRE(home);
    auto r = common::exec::run(
        {"gpg", "--batch", "--homedir", home->path().string(), "--with-colons", "--show-keys",
         BINDER_SOURCE_DIR "/builder/base/keys/ubuntu-cloudimage-keyring.gpg"},
        {.timeout = std::chrono::seconds(60)});
    REQUIRE(r);
    CHECK_THAT(r->out, Catch::Contains(std::string("fpr:::::::::") +
                                       std::string(base::k_ubuntu_cloudimage_fingerprint) + ":"));
  }
}
