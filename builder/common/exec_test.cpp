#include "common/exec.hpp"

#include <catch2/catch.hpp>

using namespace binder::common;
using namespace std::chrono_literals;

TEST_CASE("exec: captures output, stdin and exit code", "[exec]") {
  auto r = exec::run({"sh", "-c", "cat; echo err >&2; exit 3"}, {.stdin_data = "hello"});
  REQUIRE(r);
  CHECK(r->out == "hello");
  CHECK(r->err == "err\n");
  CHECK(r->exit_code == 3);
}

TEST_CASE("exec: a hung program is killed at its deadline", "[exec]") {
  auto start = std::chrono::steady_clock::now();
  auto r = exec::run({"sh", "-c", "sleep 30 & sleep 30"}, {.timeout = 500ms});
  REQUIRE(r);
  CHECK(r->timed_out);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("exec: run_checked names the program and its stderr", "[exec]") {
  auto r = exec::run_checked({"sh", "-c", "echo boom >&2; exit 1"});
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("boom") != std::string::npos);
  CHECK(r.error().message.find("exit status 1") != std::string::npos);
}
