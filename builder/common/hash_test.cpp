#include "common/hash.hpp"

#include <catch2/catch.hpp>

#include "common/spellcheck.hpp"

using namespace binder::common;

TEST_CASE("hash: sha256 of known vectors", "[hash]") {
  CHECK(hash::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hash::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("hash: transcript fields are delimited so shifted boundaries differ", "[hash]") {
  hash::Transcript a, b;
  a.add("x", "ab");
  a.add("y", "c");
  b.add("x", "a");
  b.add("y", "bc");
  CHECK(a.digest() != b.digest());
}

TEST_CASE("spellcheck: suggests close keys only", "[spellcheck]") {
  std::vector<std::string> keys{"packages", "sysctls", "overlays"};
  CHECK(suggest("pakages", keys) == "packages");
  CHECK_FALSE(suggest("zzzzzz", keys));
}
