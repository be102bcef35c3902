// Seed ISO tests: the ISO round-trips through libarchive's reader, bsdtar sees the real names,
// blkid (what cloud-init uses to find the seed) reports the `cidata` label, and a failed write
// leaves nothing behind.
#include "seed/seed.hpp"

#include <catch2/catch.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "support/skip.hpp"

namespace fs = binder::common::fs;
namespace exec = binder::common::exec;
using binder::seed::SeedContent;

namespace {

SeedContent sample() {
  SeedContent c;
  c.user_data = "#cloud-config\nbinder_member:\n  name: smoke\n";
  c.meta_data = binder::seed::meta_data("binder-smoke-1", "smoke");
  return c;
}

fs::TempDir temp_dir() {
  auto d = fs::TempDir::create("seed-test");
  REQUIRE(d);
  return std::move(*d);
}

}  // namespace

TEST_CASE("seed: ISO round-trips user-data and meta-data", "[seed]") {
  fs::TempDir dir = temp_dir();
  auto iso = dir.path() / "seed.iso";
  SeedContent c = sample();
  SECTION("without network-config") {
    REQUIRE(binder::seed::write_seed_iso(c, iso));
    auto back = binder::seed::read_seed_iso(iso);
    REQUIRE(back);
    CHECK(back->user_data == c.user_data);
    CHECK(back->meta_data == c.meta_data);
    CHECK_FALSE(back->network_config);
  }
  SECTION("with network-config and a large user-data") {
    c.network_config = "version: 2\nethernets:\n  eth0: {dhcp4: true}\n";
    c.user_data += std::string(300000, 'x') + "\n";
    REQUIRE(binder::seed::write_seed_iso(c, iso));
    auto back = binder::seed::read_seed_iso(iso);
    REQUIRE(back);
    CHECK(back->user_data == c.user_data);
    REQUIRE(back->network_config);
    CHECK(*back->network_config == *c.network_config);
  }
}

TEST_CASE("seed: bsdtar lists the files under their real lowercase names", "[seed]") {
  if (!exec::find_program("bsdtar")) {
    BINDER_SKIP_MISSING_TOOL("bsdtar");
  }
  fs::TempDir dir = temp_dir();
  auto iso = dir.path() / "seed.iso";
  SeedContent c = sample();
  c.network_config = "version: 2\n";
  REQUIRE(binder::seed::write_seed_iso(c, iso));
  auto out = exec::run_checked({"bsdtar", "-tf", iso.string()});
  REQUIRE(out);
  CHECK(out->out.find("user-data\n") != std::string::npos);
  CHECK(out->out.find("meta-data\n") != std::string::npos);
  CHECK(out->out.find("network-config\n") != std::string::npos);
  auto cat = exec::run_checked({"bsdtar", "-xOf", iso.string(), "user-data"});
  REQUIRE(cat);
  CHECK(cat->out == c.user_data);
}

TEST_CASE("seed: blkid reports the cidata label and iso9660 type", "[seed]") {
  auto blkid = exec::find_program("blkid");
  if (!blkid) {
    BINDER_SKIP_MISSING_TOOL("blkid");
  }
  fs::TempDir dir = temp_dir();
  auto iso = dir.path() / "seed.iso";
  REQUIRE(binder::seed::write_seed_iso(sample(), iso));
  auto label = exec::run({blkid->string(), "-p", "-o", "value", "-s", "LABEL", iso.string()});
  REQUIRE(label);
  CHECK(label->out == "cidata\n");
  auto type = exec::run({blkid->string(), "-p", "-o", "value", "-s", "TYPE", iso.string()});
  REQUIRE(type);
  CHECK(type->out == "iso9660\n");
}

TEST_CASE("seed: a failed write leaves the old file and no temp file", "[seed]") {
  fs::TempDir dir = temp_dir();
  SECTION("missing parent directory") {
    auto r = binder::seed::write_seed_iso(sample(), dir.path() / "nope" / "seed.iso");
    REQUIRE_FALSE(r);
    CHECK(r.error().to_string().find("seed.iso") != std::string::npos);
  }
  SECTION("an existing seed stays whole when the rewrite fails") {
    auto iso = dir.path() / "seed.iso";
    REQUIRE(binder::seed::write_seed_iso(sample(), iso));
    auto before = fs::read_file(iso);
    REQUIRE(before);
    fs::inject_write_fault(1);  // the fault point before the rename: the rename never happens
    SeedContent other = sample();
    other.user_data = "#cloud-config\n";
    auto r = binder::seed::write_seed_iso(other, iso);
    fs::inject_write_fault(0);
    REQUIRE_FALSE(r);
    auto after = fs::read_file(iso);
    REQUIRE(after);
    CHECK(*after == *before);
    CHECK(binder::seed::read_seed_iso(iso));
  }
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
    ++entries;
  }
  CHECK(entries <= 1);
}

TEST_CASE("seed: a file that is not an ISO is reported, not crashed on", "[seed]") {
  fs::TempDir dir = temp_dir();
  auto bogus = dir.path() / "bogus.iso";
  REQUIRE(fs::write_file_atomic(bogus, std::string(70000, 'z')));
  auto r = binder::seed::read_seed_iso(bogus);
  REQUIRE_FALSE(r);
  CHECK(r.error().to_string().find("bogus.iso") != std::string::npos);
  CHECK_FALSE(binder::seed::read_seed_iso(dir.path() / "missing.iso"));
}
