#include "base/accel.hpp"

#include <catch2/catch.hpp>

#include "common/exec.hpp"
#include "support/skip.hpp"

using namespace binder::base;
using namespace std::chrono_literals;

TEST_CASE("accel: modes parse and unknown ones name the choices", "[accel]") {
  CHECK(parse_accel_mode("auto").value() == AccelMode::auto_);
  CHECK(parse_accel_mode("kvm").value() == AccelMode::kvm);
  CHECK(parse_accel_mode("tcg").value() == AccelMode::tcg);
  auto bad = parse_accel_mode("hvf");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "unknown accelerator 'hvf' (choose auto, kvm or tcg)");
  CHECK(bad.error().code == binder::common::Errc::usage);
}

TEST_CASE("accel: forcing tcg needs no probe and gives force_tcg to libguestfs", "[accel]") {
  auto a = choose_accel(AccelMode::tcg);
  REQUIRE(a);
  CHECK_FALSE(a->kvm);
  CHECK(a->qemu_arg == "tcg");
  auto env = guestfs_env(*a);
  CHECK(env.at("LIBGUESTFS_BACKEND_SETTINGS") == "force_tcg");
  CHECK(guestfs_env(Accel{true, "kvm", "probe ran"}).empty());
}

TEST_CASE("accel: the probe guest runs to completion under TCG", "[accel][qemu]") {
  if (!binder::common::exec::find_program("qemu-system-x86_64")) {
    BINDER_SKIP_MISSING_TOOL("qemu-system-x86_64");
  }
  // Whether the guest runs, not how fast: ~8 s on an idle machine, but TCG on a loaded 2-core
  // machine can take several times that (a 20 s bound failed at load 11).
  auto probe = run_accel_probe("tcg", 120s);
  REQUIRE(probe);
  INFO(probe->detail);
  CHECK(probe->ran);
}

TEST_CASE("accel: auto decides within its deadline and caches the answer", "[accel][qemu]") {
  if (!binder::common::exec::find_program("qemu-system-x86_64")) {
    BINDER_SKIP_MISSING_TOOL("qemu-system-x86_64");
  }
  auto start = std::chrono::steady_clock::now();
  auto a = choose_accel(AccelMode::auto_, 3s);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(a);
  INFO(a->reason);
  CHECK(took < 3s + 5s);  // deadline + killing and cleanup slack on a loaded machine
  CHECK((a->qemu_arg == "kvm" || a->qemu_arg == "tcg"));
  CHECK(a->kvm == (a->qemu_arg == "kvm"));
  CHECK_FALSE(a->reason.empty());
  auto again_start = std::chrono::steady_clock::now();
  auto again = choose_accel(AccelMode::auto_, 3s);
  REQUIRE(again);
  CHECK(again->qemu_arg == a->qemu_arg);
  CHECK(std::chrono::steady_clock::now() - again_start < 100ms);
}

TEST_CASE("accel: a probe that cannot start its guest reports QEMU's own message", "[accel][qemu]") {
  if (!binder::common::exec::find_program("qemu-system-x86_64")) {
    BINDER_SKIP_MISSING_TOOL("qemu-system-x86_64");
  }
  auto probe = run_accel_probe("no-such-accel", 20s);
  REQUIRE(probe);
  CHECK_FALSE(probe->ran);
  CHECK(probe->detail.starts_with("qemu exited with status 1: "));
  CHECK(probe->detail.find("no-such-accel") != std::string::npos);
}

TEST_CASE("accel: forcing kvm either runs the probe guest or fails clearly, never hangs", "[accel][qemu]") {
  if (!binder::common::exec::find_program("qemu-system-x86_64")) {
    BINDER_SKIP_MISSING_TOOL("qemu-system-x86_64");
  }
  auto start = std::chrono::steady_clock::now();
  auto a = choose_accel(AccelMode::kvm, 2s);
  CHECK(std::chrono::steady_clock::now() - start < 2s + 5s);
  if (a) {
    CHECK(a->kvm);
    CHECK(a->qemu_arg == "kvm");
  } else {
    INFO(a.error().message);
    CHECK(a.error().code == binder::common::Errc::precondition);
    CHECK(a.error().message.starts_with("KVM requested but "));
  }
}
