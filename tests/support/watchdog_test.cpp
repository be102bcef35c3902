// The test watchdog (tests/catch_main.cpp): a test case past BINDER_TEST_TIMEOUT is reported with
// its name, section and child processes, the children are killed, and the binary exits 124.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "support/test_ca.hpp"

TEST_CASE("watchdog demo: hangs in a section with a child", "[.watchdogdemo]") {
  SECTION("waiting for a child that never ends") {
    std::string out;
    binder::test::run_capture({"sleep", "600"}, &out);
  }
}

TEST_CASE("watchdog: a hung test case reports its name, section and children, exit 124") {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string out;
  const auto t0 = std::chrono::steady_clock::now();
  int rc = binder::test::run_capture({"env", "BINDER_TEST_TIMEOUT=2", self, "[.watchdogdemo]"}, &out);
  const auto took = std::chrono::steady_clock::now() - t0;
  INFO(out);
  CHECK(rc == 124);
  CHECK(out.find("WATCHDOG: test case 'watchdog demo: hangs in a section with a child' still running "
                 "after 2 s") != std::string::npos);
  CHECK(out.find("section: 'waiting for a child that never ends'") != std::string::npos);
  CHECK(out.find("sleep 600") != std::string::npos);
  CHECK(took < std::chrono::seconds(30));  // the sleep was killed, not waited for
}
