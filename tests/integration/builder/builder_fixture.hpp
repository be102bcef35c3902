// Shared fixture of the builder integration tests: ONE image built per change of the binaries
// (stamp file) into build/integration-builder/, with a private layer cache, from a profile that
// extends profiles/debian-12-test.yaml and adds an overlay the tests may change. Inputs come
// from BINDER_TEST_ROOTFS / BINDER_TEST_ARTIFACTS, else from ci/make-test-rootfs and
// ci/make-test-artifacts. Header-only: one test binary.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "binder_paths.h"
#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/hash.hpp"

namespace builder_it {

namespace stdfs = std::filesystem;
namespace fs = binder::common::fs;
namespace exec = binder::common::exec;

inline const stdfs::path k_src = BINDER_SOURCE_DIR;
inline const stdfs::path k_dir = stdfs::path(BINDER_BIN_DIR) / "integration-builder";
inline const stdfs::path k_bin = stdfs::path(BINDER_BIN_DIR) / "builder" / "binder-image";

inline std::string env_or_script(const char* var, const char* script) {
  if (const char* v = std::getenv(var); v != nullptr && *v != '\0') {
    return v;
  }
  auto out = exec::run_checked({(k_src / "ci" / script).string()},
                               exec::Options{.cwd = k_src, .capture_stderr = false});
  REQUIRE(out);
  std::string path = out->out;
  while (!path.empty() && path.back() == '\n') {
    path.pop_back();
  }
  ::setenv(var, path.c_str(), 1);
  return path;
}

// Environment for every binder-image run of these tests.
inline std::map<std::string, std::string> test_env() {
  return {{"BINDER_TEST_ROOTFS", env_or_script("BINDER_TEST_ROOTFS", "make-test-rootfs")},
          {"BINDER_TEST_ARTIFACTS", env_or_script("BINDER_TEST_ARTIFACTS", "make-test-artifacts")},
          {"BINDER_TEST_CHARTS", env_or_script("BINDER_TEST_CHARTS", "make-test-charts")},
          {"XDG_CACHE_HOME", (k_dir / "cache").string()},
          {"LIBGUESTFS_BACKEND_SETTINGS", "force_tcg"},
          {"SOURCE_DATE_EPOCH", "1700000000"}};
}

inline stdfs::path profile_path() { return k_dir / "profiles" / "test.yaml"; }
inline stdfs::path extra_file() { return k_dir / "overlays" / "extra" / "etc" / "binder-test-extra"; }

// Writes the test profile and its extra overlay (idempotent).
inline void write_profile() {
  REQUIRE(fs::write_file_atomic(
      profile_path(),
      fmt::format("extends: {}\noverlays: [{}, ../overlays/extra]\n",
                  (k_src / "profiles/debian-12-test.yaml").string(), (k_src / "overlays/common").string())));
  if (!stdfs::exists(extra_file())) {
    REQUIRE(fs::write_file_atomic(extra_file(), "extra v0\n"));
  }
}

inline exec::Output run_binder(std::vector<std::string> args,
                               std::chrono::seconds timeout = std::chrono::seconds(1080),
                               const std::map<std::string, std::string>& extra_env = {}) {
  args.insert(args.begin(), k_bin.string());
  exec::Options o;
  o.env = test_env();
  for (const auto& [k, v] : extra_env) {
    o.env[k] = v;
  }
  o.timeout = timeout;
  auto r = exec::run(args, o);
  REQUIRE(r);
  return *r;
}

// The "done" event of a --json build (null if none).
inline nlohmann::json done_event(const std::string& out) {
  nlohmann::json done;
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t nl = out.find('\n', pos);
    auto j = nlohmann::json::parse(out.substr(pos, nl - pos), nullptr, false);
    if (!j.is_discarded() && j.value("event", "") == "done") {
      done = j;
    }
    pos = nl == std::string::npos ? out.size() : nl + 1;
  }
  return done;
}

struct Built {
  stdfs::path image;  // out/debian-12-test.qcow2
  stdfs::path out_dir;
  nlohmann::json cold;  // done event of the cold build
};

// The layer digests `binder-image plan` prints ("base    hit  7c95840312505c4e  ..."): each covers
// every input of its layer (profile settings, overlays, rootfs, artifacts, charts).
inline std::string plan_digests(const std::string& plan_out) {
  std::string digests;
  std::size_t pos = 0;
  while (pos < plan_out.size()) {
    std::size_t nl = plan_out.find('\n', pos);
    std::string line = plan_out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    std::istringstream words(line);
    std::string kind, status, digest;
    words >> kind >> status >> digest;
    if ((kind == "base" || kind == "system" || kind == "charts" || kind == "final") &&
        (status == "hit" || status == "miss")) {
      digests += kind + " " + digest + "\n";  // not hit/miss: that changes once built
    }
    pos = nl == std::string::npos ? plan_out.size() : nl + 1;
  }
  return digests;
}

// Builds the shared image once per change of any input: the two binaries and every layer's
// digest from `plan` (flock'ed: tests may run concurrently), so content checks never inspect a
// stale image.
inline Built shared_image() {
  REQUIRE(fs::make_directories(k_dir));
  int lock = ::open((k_dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(lock >= 0);
  ::flock(lock, LOCK_EX);
  Built b{k_dir / "out" / "debian-12-test.qcow2", k_dir / "out", {}};
  write_profile();
  REQUIRE(fs::write_file_atomic(extra_file(), "extra v0\n"));
  auto plan = run_binder({"plan", profile_path().string()});
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  std::string digests = plan_digests(plan.out + plan.err);
  REQUIRE(std::count(digests.begin(), digests.end(), '\n') == 4);
  std::string stamp =
      binder::common::hash::sha256_file(k_bin).value_or("") + "\n" +
      binder::common::hash::sha256_file(stdfs::path(BINDER_BIN_DIR) / "firstboot" / "binder-firstboot")
          .value_or("") +
      "\n" + digests;
  auto old = fs::read_file_if_exists(k_dir / "stamp");
  auto cold = fs::read_file_if_exists(k_dir / "cold.json");
  if (old && *old && **old == stamp && stdfs::exists(b.image) && cold && *cold) {
    b.cold = nlohmann::json::parse(**cold);
  } else {
    REQUIRE(fs::remove_tree(k_dir / "cache"));
    REQUIRE(fs::remove_tree(b.out_dir));
    auto r = run_binder(
        {"build", profile_path().string(), "--output", b.out_dir.string(), "--accel", "tcg", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    b.cold = done_event(r.out);
    REQUIRE(fs::write_file_atomic(k_dir / "cold.json", b.cold.dump()));
    REQUIRE(fs::write_file_atomic(k_dir / "stamp", stamp));
  }
  ::close(lock);
  return b;
}

}  // namespace builder_it
