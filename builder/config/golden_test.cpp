// Golden diagnostics: each tests/fixtures/profiles/bad/<name>.expected holds the exact message
// load_profile() gives for <name>.yaml, with the source directory prefix removed so paths read
// "tests/fixtures/...". BINDER_UPDATE_GOLDEN=1 rewrites the .expected files (review the diff).
#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "config/load.hpp"

using namespace binder::config;
namespace stdfs = std::filesystem;

namespace {

const stdfs::path k_src = BINDER_SOURCE_DIR;

std::string strip_source_dir(std::string s) {
  const std::string prefix = k_src.string() + "/";
  for (auto pos = s.find(prefix); pos != std::string::npos; pos = s.find(prefix)) {
    s.erase(pos, prefix.size());
  }
  return s;
}

}  // namespace

TEST_CASE("config goldens: every bad profile gives exactly its expected diagnostics", "[config]") {
  unsetenv("BINDER_NO_SUCH_VARIABLE");
  const stdfs::path dir = k_src / "tests/fixtures/profiles/bad";
  std::vector<stdfs::path> expected;
  for (const auto& e : stdfs::directory_iterator(dir)) {
    if (e.path().extension() == ".expected") {
      expected.push_back(e.path());
    }
  }
  std::sort(expected.begin(), expected.end());
  CHECK(expected.size() >= 14);
  bool update = std::getenv("BINDER_UPDATE_GOLDEN") != nullptr;
  for (const auto& exp : expected) {
    stdfs::path yaml = stdfs::path(exp).replace_extension(".yaml");
    auto r = load_profile(yaml);
    INFO(yaml.string());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == binder::common::Errc::invalid_config);
    std::string got = strip_source_dir(r.error().message) + "\n";
    if (update) {
      REQUIRE(binder::common::fs::write_file_atomic(exp, got));
      continue;
    }
    auto want = binder::common::fs::read_file(exp);
    REQUIRE(want);
    CHECK(got == *want);
  }
}

TEST_CASE("config goldens: every bad fixture has an .expected file", "[config]") {
  const stdfs::path dir = k_src / "tests/fixtures/profiles/bad";
  for (const auto& e : stdfs::directory_iterator(dir)) {
    if (e.path().extension() == ".yaml") {
      INFO(e.path().string());
      CHECK(stdfs::exists(stdfs::path(e.path()).replace_extension(".expected")));
    }
  }
}

TEST_CASE("config goldens: a missing top-level profile is one clear error", "[config]") {
  auto r = load_profile("no/such/profile.yaml");
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "no/such/profile.yaml: error: profile 'no/such/profile.yaml' does not exist");
}
