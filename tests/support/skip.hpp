// Visible skips. Every test is registered with SKIP_REGULAR_EXPRESSION "BINDER-SKIP:", so a test
// that prints that marker counts as "Skipped" in CTest's summary, never as a pass.
//
//   BINDER_SKIP(why)               skip for a reason of this machine that CI may lack too
//                                  (no root, no loop devices, no clone of mybinder.org-deploy).
//   BINDER_SKIP_MISSING_TOOL(tool) skip because a tool is not installed; under CI=true this FAILS
//                                  instead, since ci/deps installs every tool.
//
// Both return from the enclosing TEST_CASE; use them only in a test case body.
#pragma once

#include <cstdlib>
#include <iostream>
#include <string_view>

#include <catch2/catch.hpp>

namespace binder::test {

inline bool on_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

}  // namespace binder::test

#define BINDER_SKIP(why)                              \
  do {                                                \
    std::cout << "BINDER-SKIP: " << why << std::endl; \
    WARN("SKIPPED: " << why);                         \
    return;                                           \
  } while (0)

#define BINDER_SKIP_MISSING_TOOL(tool)                                                  \
  do {                                                                                  \
    if (::binder::test::on_ci()) {                                                      \
      FAIL("CI=true and " << tool << " is not installed: ci/deps installs every tool"); \
    }                                                                                   \
    BINDER_SKIP(tool << " is not installed");                                           \
  } while (0)
