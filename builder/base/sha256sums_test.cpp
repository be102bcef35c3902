#include "base/sha256sums.hpp"

#include <catch2/catch.hpp>

using namespace binder::base;

namespace {
const std::string a(64, 'a');
const std::string b = "B" + std::string(63, 'b');
}  // namespace

TEST_CASE("sha256sums: text and binary mode lines both parse", "[sha256sums]") {
  auto text = a + "  noble-server-cloudimg-amd64.img\n" + b + " *noble-server-cloudimg-amd64.tar.gz\r\n";
  auto entries = parse_sha256sums(text);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].name == "noble-server-cloudimg-amd64.img");
  CHECK(entries[1].name == "noble-server-cloudimg-amd64.tar.gz");
  CHECK(entries[1].sha256 == std::string(64, 'b'));  // lower-cased
  CHECK(find_sha256(entries, "noble-server-cloudimg-amd64.tar.gz") == std::string(64, 'b'));
}

TEST_CASE("sha256sums: BSD lines, ./ prefixes and junk lines", "[sha256sums]") {
  auto text =
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n# comment\n"
      "SHA256 (k3s) = " +
      a + "\n" + a.substr(0, 63) + "  truncated\n" + b + "  ./sub/file name with spaces\n";
  auto entries = parse_sha256sums(text);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].name == "k3s");
  CHECK(entries[1].name == "sub/file name with spaces");
  CHECK_FALSE(find_sha256(entries, "truncated"));
  CHECK(find_sha256(entries, "./k3s") == a);
}

TEST_CASE("sha256sums: a missing name is an error naming the file and the list", "[sha256sums]") {
  auto r = lookup_sha256(a + "  k3s\n", "k3s-airgap-images-amd64.tar.zst", "https://x/sha256sum-amd64.txt");
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "'k3s-airgap-images-amd64.tar.zst' is not listed in 'https://x/sha256sum-amd64.txt' (1 "
        "entries)");
  auto empty = lookup_sha256("<html>not found</html>", "k3s", "SUMS");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().message == "'SUMS' holds no sha256 checksum lines");
  CHECK(lookup_sha256(a + "  k3s\n", "k3s", "SUMS").value() == a);
}

// Found by ci/fuzz (fuzz_sha256sums): an entry whose own name starts with '*' (binary mode
// "**x") was listed but could not be looked up by that name.
TEST_CASE("sha256sums: names that start with '*' or './' are found as listed", "[sha256sums][fuzz]") {
  auto entries = parse_sha256sums(a + " **star\n" + b + "  ././dot\n");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].name == "*star");
  CHECK(find_sha256(entries, "*star") == a);
  CHECK(find_sha256(entries, "./dot") == std::string(64, 'b'));
  CHECK(find_sha256(entries, "nothing") == std::nullopt);
}
