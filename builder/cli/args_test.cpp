#include "cli/args.hpp"

#include <catch2/catch.hpp>

using namespace binder::cli;

namespace {
const std::vector<OptionSpec> k_specs{
    {"--output", "DIR", "out"}, {"--set", "K=V", "set", true}, {"--json", "", "json"}};
}

TEST_CASE("cli args: values, repeats, flags and positionals", "[cli]") {
  auto a =
      Args::parse("build", {"p.yaml", "--output=o", "--set", "a=1", "--set", "b=2", "--json"}, k_specs, 1, 1);
  REQUIRE(a);
  CHECK(a->positionals() == std::vector<std::string>{"p.yaml"});
  CHECK(a->value("--output") == "o");
  CHECK(a->values("--set") == std::vector<std::string>{"a=1", "b=2"});
  CHECK(a->has("--json"));
  CHECK_FALSE(a->has("--no-cache"));
}

TEST_CASE("cli args: mistakes are usage errors with a suggestion", "[cli]") {
  auto typo = Args::parse("build", {"p.yaml", "--ouptut", "o"}, k_specs, 1, 1);
  REQUIRE_FALSE(typo);
  CHECK(typo.error().code == binder::common::Errc::usage);
  CHECK(typo.error().message == "unknown option '--ouptut' for 'build' (did you mean '--output'?)");
  CHECK_FALSE(Args::parse("build", {}, k_specs, 1, 1));
  CHECK_FALSE(Args::parse("build", {"a", "b"}, k_specs, 1, 1));
  CHECK_FALSE(Args::parse("build", {"a", "--output"}, k_specs, 1, 1));
  CHECK_FALSE(Args::parse("build", {"a", "--output", "x", "--output", "y"}, k_specs, 1, 1));
  CHECK_FALSE(Args::parse("build", {"a", "--json=1"}, k_specs, 1, 1));
}
