// The skip markers do what CTest's SKIP_REGULAR_EXPRESSION relies on: a skip prints BINDER-SKIP:
// and passes, a missing tool fails under CI=true. The two hidden cases ([.]) are run by the
// visible one through this same binary (/proc/self/exe), with and without CI=true.
#include "support/skip.hpp"

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "support/test_ca.hpp"

TEST_CASE("skip demo: a reason of this machine", "[.skipdemo]") {
  BINDER_SKIP("no loop devices here");
  FAIL("not reached");
}

TEST_CASE("skip demo: a missing tool", "[.skipdemo]") {
  BINDER_SKIP_MISSING_TOOL("frobnicate");
  FAIL("not reached");
}

TEST_CASE("skip: prints the marker CTest reads, a missing tool fails under CI=true") {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string out;
  int rc = binder::test::run_capture({"env", "-u", "CI", self, "[.skipdemo]"}, &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(out.find("BINDER-SKIP: no loop devices here") != std::string::npos);
  CHECK(out.find("BINDER-SKIP: frobnicate is not installed") != std::string::npos);

  rc = binder::test::run_capture({"env", "CI=true", self, "skip demo: a reason of this machine"}, &out);
  INFO(out);
  CHECK(rc == 0);  // not a tool: still a skip on CI
  CHECK(out.find("BINDER-SKIP:") != std::string::npos);

  rc = binder::test::run_capture({"env", "CI=true", self, "skip demo: a missing tool"}, &out);
  INFO(out);
  CHECK(rc != 0);
  CHECK(out.find("CI=true and frobnicate is not installed") != std::string::npos);
  CHECK(out.find("BINDER-SKIP:") == std::string::npos);
}
