// Hostile YAML through the real programs: `binder-firstboot render|plan` (member metadata, the
// cloud-config user-data wrapper) and `binder-image show-config` (profiles). Each refusal is
// exit 2 with the file:line and the limit, well under a second, under a 1 GiB address-space
// limit (the alias bomb used to take 1.5 GB and 22 s, and abort with 134 under that limit).
#include <sys/stat.h>

#include <chrono>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "support/test_ca.hpp"

namespace fs = binder::common::fs;

namespace {

const std::string k_firstboot = std::string(BINDER_BIN_DIR) + "/firstboot/binder-firstboot";
const std::string k_image = std::string(BINDER_BIN_DIR) + "/builder/binder-image";

struct Run {
  int rc = -1;
  std::string out, err;
  std::chrono::milliseconds took{};
};

// Runs the program under `ulimit -v 1 GiB`.
Run run_limited(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/bin/sh", "-c", "ulimit -v 1048576 && exec \"$@\"", "sh"};
  argv.insert(argv.end(), args.begin(), args.end());
  Run r;
  auto start = std::chrono::steady_clock::now();
  r.rc = binder::test::run_capture(argv, &r.out, &r.err);
  r.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return r;
}

// Seven levels of ten aliases each: 10^7 nodes once expanded.
std::string alias_bomb(const std::string& indent) {
  std::string doc = indent + "l0: &l0 [lol, lol]\n";
  for (int i = 1; i <= 7; ++i) {
    doc += fmt::format("{}l{}: &l{} [", indent, i, i);
    for (int k = 0; k < 10; ++k) {
      doc += fmt::format("{}*l{}", k == 0 ? "" : ", ", i - 1);
    }
    doc += "]\n";
  }
  return doc;
}

const char* k_member_head = "binder_member:\n  name: example\n  domain: mybinder.org\n";

struct Case {
  const char* what;
  std::string body;          // after k_member_head (member) or "name: x\n" (profile)
  std::string member_where;  // expected "member.yaml:L:C: message" fragment
  std::string profile_where;
};

std::vector<Case> cases() {
  std::string nul("  x-blob: \"a\0b\"\n", 16);
  return {
      {"alias bomb", alias_bomb("  "), ":9:", ":9:"},
      {"duplicate key", "  domain: other.org\n", ":4:3: duplicate key 'domain' (first at line 3)",
       ":4:3: error: duplicate key 'domain' (first at line 3)"},
      {"deep nesting", "  x-deep: " + std::string(100, '[') + std::string(100, ']') + "\n",
       ":4:73: YAML nesting exceeds the limit of 64 levels",  // two mappings above: 63rd '['
       ":4:73: error: YAML nesting exceeds the limit of 64 levels"},
      {"NUL byte", nul, ":4:13: byte 0x00 is not allowed in YAML text",
       ":4:13: error: byte 0x00 is not allowed in YAML text"},
  };
}

}  // namespace

TEST_CASE("hostile yaml: binder-firstboot render refuses with exit 2, file:line and the limit",
          "[hostile][integration]") {
  auto dir = *fs::TempDir::create("hostile-fb");
  for (const auto& c : cases()) {
    INFO(c.what);
    auto meta = dir.path() / "member.yaml";
    REQUIRE(fs::write_file_atomic(meta, std::string(k_member_head) + c.body));
    auto r = run_limited({k_firstboot, "render", "sizing", "--metadata", meta.string()});
    INFO(r.err);
    CHECK(r.rc == 2);
    CHECK(r.err.find(meta.string() + c.member_where) != std::string::npos);
    CHECK(r.took < std::chrono::milliseconds(2000));
  }
  auto r =
      run_limited({k_firstboot, "render", "sizing", "--metadata", (dir.path() / "member.yaml").string()});
  CHECK(r.out.empty());
}

TEST_CASE("hostile yaml: the alias bomb reports the limit it broke", "[hostile][integration]") {
  auto dir = *fs::TempDir::create("hostile-fb");
  auto meta = dir.path() / "member.yaml";
  REQUIRE(fs::write_file_atomic(meta, std::string(k_member_head) + alias_bomb("  ")));
  auto r = run_limited({k_firstboot, "render", "sizing", "--metadata", meta.string()});
  CHECK(r.rc == 2);
  CHECK(r.err.find("YAML alias expansion exceeds the limit of 100000 nodes") != std::string::npos);
}

TEST_CASE("hostile yaml: a huge metadata file is refused before it is read whole", "[hostile][integration]") {
  auto dir = *fs::TempDir::create("hostile-fb");
  auto meta = dir.path() / "member.yaml";
  REQUIRE(fs::write_file_atomic(
      meta, std::string(k_member_head) + "  x-pad: " + std::string(3u << 20, 'a') + "\n"));
  auto r = run_limited({k_firstboot, "render", "sizing", "--metadata", meta.string()});
  CHECK(r.rc == 2);
  CHECK(r.err.find("'" + meta.string() + "' is larger than the limit of 1048576 bytes") != std::string::npos);
}

TEST_CASE("hostile yaml: cloud-config user-data with an alias bomb stops binder-firstboot plan",
          "[hostile][integration]") {
  auto root = *fs::TempDir::create("hostile-root");
  auto ud = root.path() / "var/lib/cloud/instance/user-data.txt";
  std::filesystem::create_directories(ud.parent_path());
  REQUIRE(fs::write_file_atomic(
      ud, "#cloud-config\npackage_update: false\n" + std::string(k_member_head) + alias_bomb("  ")));
  auto r = run_limited({k_firstboot, "plan", "--root", root.path().string()});
  INFO(r.err);
  CHECK(r.rc == 2);
  CHECK(r.err.find(ud.string() + ":11:") != std::string::npos);
  CHECK(r.err.find("100000 nodes") != std::string::npos);
  CHECK(r.took < std::chrono::milliseconds(2000));
}

TEST_CASE("hostile yaml: binder-image show-config refuses hostile profiles with exit 2",
          "[hostile][integration]") {
  auto dir = *fs::TempDir::create("hostile-img");
  for (const auto& c : cases()) {
    INFO(c.what);
    auto profile = dir.path() / "p.yaml";
    std::string body = c.body;
    // The member cases are indented under binder_member; a profile's keys sit at the top, so
    // the same bytes go under an `x-` section (free for users) at line 3.
    REQUIRE(fs::write_file_atomic(profile, "name: x\nx-hostile:\n  domain: mybinder.org\n" + body));
    auto r = run_limited({k_image, "show-config", profile.string()});
    INFO(r.err);
    CHECK(r.rc == 2);
    CHECK(r.err.find(profile.string() + c.profile_where) != std::string::npos);
    CHECK(r.took < std::chrono::milliseconds(2000));
  }
  auto profile = dir.path() / "big.yaml";
  REQUIRE(fs::write_file_atomic(profile, "name: x\nx-pad: " + std::string(3u << 20, 'a') + "\n"));
  auto r = run_limited({k_image, "show-config", profile.string()});
  CHECK(r.rc == 2);
  CHECK(r.err.find("is larger than the limit of 1048576 bytes") != std::string::npos);
  // A FIFO as `extends:` would block a plain read forever.
  auto fifo = dir.path() / "fifo.yaml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  REQUIRE(fs::write_file_atomic(profile, "extends: fifo.yaml\nname: x\n"));
  r = run_limited({k_image, "show-config", profile.string()});
  CHECK(r.rc == 2);
  CHECK(r.err.find("'" + fifo.string() + "' is not a regular file") != std::string::npos);
}
