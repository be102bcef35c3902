// Scalar parsers: sizes, booleans, numbers, ${VAR} expansion, sha256, path resolution.
#include "config/values.hpp"

#include <cstdlib>

#include <catch2/catch.hpp>

using namespace binder::config;

TEST_CASE("values: sizes take K/M/G/T suffixes as powers of 1024", "[config]") {
  CHECK(parse_size("20G").value() == 20ull << 30);
  CHECK(parse_size("20GiB").value() == 20ull << 30);
  CHECK(parse_size("512M").value() == 512ull << 20);
  CHECK(parse_size("4k").value() == 4096);
  CHECK(parse_size("1T").value() == 1ull << 40);
  CHECK(parse_size("12345").value() == 12345);
  CHECK_FALSE(parse_size("20GB"));
  CHECK_FALSE(parse_size("G"));
  CHECK_FALSE(parse_size("-1G"));
  CHECK_FALSE(parse_size("1.5G"));
  CHECK_FALSE(parse_size("99999999999T"));
  CHECK(format_size(20ull << 30) == "20G");
  CHECK(format_size(3145729ull << 10) == "3145729K");
  CHECK(format_size(1000) == "1000");
}

TEST_CASE("values: booleans, integers and numbers are strict", "[config]") {
  CHECK(parse_bool("true").value());
  CHECK_FALSE(parse_bool("False").value());
  CHECK_FALSE(parse_bool("maybe"));
  CHECK(parse_int("-5").value() == -5);
  CHECK_FALSE(parse_int("5x"));
  CHECK(parse_number("1.75").value() == 1.75);
  CHECK_FALSE(parse_number("lots"));
}

TEST_CASE("values: ${VAR} expands from the environment, unset is an error", "[config]") {
  setenv("BINDER_VALUES_TEST", "/data", 1);
  unsetenv("BINDER_VALUES_UNSET");
  CHECK(expand_env("${BINDER_VALUES_TEST}/k3s").value() == "/data/k3s");
  CHECK(expand_env("cost $$5").value() == "cost $5");
  CHECK(expand_env("plain $HOME").value() == "plain $HOME");
  auto bad = expand_env("${BINDER_VALUES_UNSET}/x");
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == "environment variable 'BINDER_VALUES_UNSET' is not set");
  CHECK_FALSE(expand_env("${OPEN"));
}

TEST_CASE("values: sha256 is 64 hex digits, normalized to lowercase", "[config]") {
  std::string upper(64, 'A');
  CHECK(parse_sha256(upper).value() == std::string(64, 'a'));
  CHECK_FALSE(parse_sha256("abc"));
  CHECK_FALSE(parse_sha256(std::string(63, 'a') + "g"));
}

TEST_CASE("values: relative paths resolve against the given directory", "[config]") {
  CHECK(resolve_path("/etc/profiles", "../overlays/common") == "/etc/overlays/common");
  CHECK(resolve_path("/etc/profiles", "/abs/file") == "/abs/file");
}
