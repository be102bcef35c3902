// Boot tests (label boot): build the smoke image from profiles/debian-12-smoke.yaml with the real
// binder-image, then run ci/smoke-boot on it: QEMU (TCG here), NoCloud seed, fakes on loopback,
// the in-image verdict. Skipped, saying so, only when qemu-system-x86_64 is absent.
// BINDER_SMOKE_IMAGE=path reuses an image built earlier instead of building one.
#include <cstdlib>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "binder_paths.h"
#include "common/exec.hpp"
#include "common/fs.hpp"
#include "support/skip.hpp"

namespace exec = binder::common::exec;
namespace stdfs = std::filesystem;

namespace {

const stdfs::path k_smoke_repo = BINDER_SOURCE_DIR;
const stdfs::path k_smoke_bin = BINDER_BIN_DIR;

bool have_qemu() { return exec::find_program("qemu-system-x86_64").has_value(); }

std::string env_or_make(const char* name, const char* script) {
  if (const char* v = std::getenv(name); v != nullptr && *v != '\0') {
    return v;
  }
  exec::Options o;
  o.timeout = std::chrono::minutes(20);
  auto r = exec::run_checked({"nice", (k_smoke_repo / "ci" / script).string()}, o);
  REQUIRE(r);
  std::string out = r->out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  ::setenv(name, out.c_str(), 1);
  return out;
}

// Builds the smoke image once per test process; returns its path.
stdfs::path smoke_image() {
  static stdfs::path image;
  if (!image.empty()) {
    return image;
  }
  if (const char* v = std::getenv("BINDER_SMOKE_IMAGE"); v != nullptr && *v != '\0') {
    image = v;
    return image;
  }
  env_or_make("BINDER_TEST_ROOTFS", "make-test-rootfs");
  env_or_make("BINDER_TEST_ARTIFACTS", "make-test-artifacts");
  env_or_make("BINDER_TEST_CHARTS", "make-test-charts");
  stdfs::path out = k_smoke_bin / "boot-test-out";
  exec::Options o;
  o.timeout = std::chrono::minutes(30);
  o.env["LIBGUESTFS_BACKEND_SETTINGS"] = "force_tcg";
  auto r =
      exec::run({(k_smoke_bin / "builder" / "binder-image").string(), "build",
                 (k_smoke_repo / "profiles" / "debian-12-smoke.yaml").string(), "--output", out.string()},
                o);
  REQUIRE(r);
  INFO("binder-image build stderr:\n" << r->err);
  REQUIRE(r->exit_code == 0);
  for (const auto& e : stdfs::directory_iterator(out)) {
    if (e.path().extension() == ".qcow2") {
      image = e.path();
    }
  }
  REQUIRE_FALSE(image.empty());
  return image;
}

struct SmokeRun {
  int exit_code = -1;
  std::string log;
  nlohmann::json report;
};

SmokeRun smoke_boot(const std::vector<std::string>& extra, const std::string& name) {
  stdfs::path work = k_smoke_bin / "boot-test-work" / name;
  REQUIRE(binder::common::fs::remove_tree(work));
  REQUIRE(binder::common::fs::make_directories(work));
  std::vector<std::string> argv{"/usr/bin/python3",
                                (k_smoke_repo / "ci" / "smoke-boot").string(),
                                smoke_image().string(),
                                "--workdir",
                                work.string(),
                                "--binder-image",
                                (k_smoke_bin / "builder" / "binder-image").string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  exec::Options o;
  o.timeout = std::chrono::minutes(40);
  auto r = exec::run(argv, o);
  REQUIRE(r);
  SmokeRun run{r->exit_code, r->err, {}};
  std::ifstream in(work / "report.json");
  if (in) {
    run.report = nlohmann::json::parse(in, nullptr, false);
  }
  return run;
}

}  // namespace

TEST_CASE("boot: the smoke image boots, firstboot completes against the fakes, verdict PASS", "[boot]") {
  if (!have_qemu()) {
    BINDER_SKIP_MISSING_TOOL("qemu-system-x86_64");
  }
  SmokeRun run = smoke_boot({}, "smoke");
  INFO("ci/smoke-boot output:\n" << run.log);
  CHECK(run.exit_code == 0);
  REQUIRE(run.report.is_object());
  REQUIRE(run.report["boots"].size() == 1);
  CHECK(run.report["boots"][0]["outcome"] == "PASS");
  CHECK(run.report["problems"].empty());
  WARN("boot-to-verdict: " << run.report.value("verdict_seconds", -1.0) << " s ("
                           << run.report.value("accel", std::string("?")) << ")");
}

TEST_CASE("boot: a power cut during firstboot resumes to PASS without duplicates", "[boot]") {
  if (!have_qemu()) {
    BINDER_SKIP_MISSING_TOOL("qemu-system-x86_64");
  }
  SmokeRun run = smoke_boot({"--power-cut"}, "power-cut");
  INFO("ci/smoke-boot output:\n" << run.log);
  CHECK(run.exit_code == 0);
  REQUIRE(run.report.is_object());
  REQUIRE(run.report["boots"].size() == 2);
  CHECK(run.report["boots"][0]["outcome"] == "CUT");
  CHECK(run.report["boots"][1]["outcome"] == "PASS");
  // The world's resource counts only grow to what one clean run makes (checked exactly by
  // ci/smoke-boot: one A record per name, one project, one robot per name).
  CHECK(run.report["problems"].empty());
}

// Failures as first-class cases (issue 12): ci/smoke-boot --fault NAME judges each scenario
// itself (FAIL verdict, the failing step and cause on one serial line, the agent's exit code,
// and for cloudflare-auth the resume to PASS with corrected metadata); exit 0 when it behaved.
namespace {

void fault_case(const std::string& fault, int want_exit, bool resumes) {
  if (!have_qemu()) {
    BINDER_SKIP_MISSING_TOOL("qemu-system-x86_64");
  }
  SmokeRun run = smoke_boot({"--fault", fault}, "fault-" + fault);
  INFO("ci/smoke-boot output:\n" << run.log);
  CHECK(run.exit_code == 0);
  REQUIRE(run.report.is_object());
  CHECK(run.report["fault"] == fault);
  CHECK(run.report["problems"].empty());
  REQUIRE(run.report["boots"].size() == (resumes ? 2U : 1U));
  CHECK(run.report["boots"][0]["outcome"] == "FAIL");
  CHECK(run.report["boots"][0]["agent_exit"] == want_exit);
  CHECK(run.report["boots"][0].contains("failure_line"));
  if (resumes) {
    CHECK(run.report["boots"][1]["outcome"] == "PASS");
  }
}

}  // namespace

TEST_CASE("boot: fault cloudflare-auth fails at dns:records (exit 1), corrected metadata resumes to PASS",
          "[boot][fault]") {
  fault_case("cloudflare-auth", 1, true);
}

TEST_CASE("boot: fault s3-unreachable fails at s3:lifecycle with exit 75", "[boot][fault]") {
  fault_case("s3-unreachable", 75, false);
}

TEST_CASE("boot: fault harbor-down fails at harbor:api with exit 75", "[boot][fault]") {
  fault_case("harbor-down", 75, false);
}
