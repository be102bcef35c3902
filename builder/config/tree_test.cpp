// Hostile YAML in the profile parser: duplicate keys, alias bombs, deep nesting, binary input.
#include "config/tree.hpp"

#include <chrono>

#include <catch2/catch.hpp>

using namespace binder::config;

namespace {

std::string errors_of(std::string_view text) {
  Diagnostics d;
  auto n = parse_yaml(text, "p.yaml", d);
  CHECK_FALSE(d.empty());
  return d.render();
}

}  // namespace

TEST_CASE("tree: duplicate keys name both lines, every one is reported", "[tree][hostile]") {
  auto e = errors_of("name: a\nk3s:\n  channel: x\n  channel: y\nname: b\n");
  CHECK(e.find("p.yaml:4:3: error: duplicate key 'channel' (first at line 3)\n  channel: y\n  ^~~~~~~") !=
        std::string::npos);
  CHECK(e.find("p.yaml:5:1: error: duplicate key 'name' (first at line 1)") != std::string::npos);
}

TEST_CASE("tree: alias bomb, deep nesting and cycles stop before the tree is expanded", "[tree][hostile]") {
  std::string bomb = "a0: &a0 [x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    bomb += fmt::format("a{}: &a{} [*a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}]\n", i, i,
                        i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  }
  auto start = std::chrono::steady_clock::now();
  auto e = errors_of(bomb);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
  CHECK(e.find("p.yaml:6:") == 0);
  CHECK(e.find("error: YAML alias expansion exceeds the limit of 100000 nodes") != std::string::npos);
  CHECK(errors_of("a: &x {b: *x}\n").find("cycle") != std::string::npos);
  CHECK(errors_of(std::string(70, '[') + std::string(70, ']')) ==
        "p.yaml:1:65: error: YAML nesting exceeds the limit of 64 levels\n" + std::string(70, '[') +
            std::string(70, ']') + "\n" + std::string(64, ' ') + "^");
}

TEST_CASE("tree: binary and oversized input are refused without quoting them", "[tree][hostile]") {
  CHECK(errors_of(std::string("name: x\n\0\0\0\0", 12)) ==
        "p.yaml:2:1: error: byte 0x00 is not allowed in YAML text (binary input?)");
  std::string huge = "name: x\nblob: " + std::string(2u << 20, 'a') + "\n";
  CHECK(errors_of(huge) == fmt::format("p.yaml:2:{}: error: the document is {} bytes, over the limit "
                                       "of 1048576 bytes",
                                       (1u << 20) - 8 + 1, huge.size()));
}
