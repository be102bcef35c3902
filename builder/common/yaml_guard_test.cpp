#include "common/yaml_guard.hpp"

#include <chrono>
#include <string>

#include <catch2/catch.hpp>

using namespace binder::common;

namespace {

// The classic bomb: each level is a list of `width` aliases of the previous one.
std::string alias_bomb(int levels, int width = 10) {
  std::string doc = "a0: &a0 [lol]\n";
  for (int i = 1; i <= levels; ++i) {
    doc += fmt::format("a{}: &a{} [", i, i);
    for (int k = 0; k < width; ++k) {
      doc += fmt::format("{}*a{}", k == 0 ? "" : ", ", i - 1);
    }
    doc += "]\n";
  }
  return doc;
}

}  // namespace

TEST_CASE("yaml guard: ordinary documents pass, syntax errors are left to the parser", "[yaml_guard]") {
  CHECK_FALSE(check_yaml_text(""));
  CHECK_FALSE(check_yaml_text("name: x\nnode: {ntp: [a, b]}\nlist:\n  - &x {k: v}\n  - *x\n"));
  CHECK_FALSE(check_yaml_text("caf\xc3\xa9: \xe2\x82\xac\t# utf-8 and a tab\r\n"));
  CHECK_FALSE(check_yaml_text("a: [unclosed\n"));
  CHECK_FALSE(check_yaml_text("a: *undefined\n"));
}

TEST_CASE("yaml guard: an alias bomb is refused at the alias that passes the limit, fast", "[yaml_guard]") {
  auto start = std::chrono::steady_clock::now();
  auto p = check_yaml_text(alias_bomb(9));  // 10^9 nodes expanded
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(p);
  CHECK(p->message.find("alias expansion exceeds the limit of 100000 nodes") != std::string::npos);
  CHECK(p->line == 6);  // a5 is the first level over 100000 (11 + 10*11 + ... > 10^5)
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() < 500);
  CHECK_FALSE(check_yaml_text(alias_bomb(3)));  // ~1100 nodes: fine
}

TEST_CASE("yaml guard: nodes are counted as a converter expands them", "[yaml_guard]") {
  YamlLimits l;
  l.max_nodes = 7;
  // map(1) + key a(1) + seq(1) + 2 items = 5; key b(1) + alias of the list (3) = 9 > 7
  auto p = check_yaml_text("a: &x [1, 2]\nb: *x\n", l);
  REQUIRE(p);
  CHECK(p->line == 2);
  CHECK(p->col == 4);
  l.max_nodes = 9;
  CHECK_FALSE(check_yaml_text("a: &x [1, 2]\nb: *x\n", l));
}

TEST_CASE("yaml guard: nesting depth, aliases included", "[yaml_guard]") {
  std::string deep(65, '[');
  deep += std::string(65, ']');
  auto p = check_yaml_text(deep);
  REQUIRE(p);
  CHECK(p->message == "YAML nesting exceeds the limit of 64 levels");
  CHECK(p->line == 1);
  CHECK(p->col == 65);
  std::string ok(64, '[');
  ok += std::string(64, ']');
  CHECK_FALSE(check_yaml_text(ok));
  YamlLimits l;
  l.max_depth = 3;
  CHECK_FALSE(check_yaml_text("a: &x {b: c}\n", l));
  auto q = check_yaml_text("a: &x {b: c}\nd: {e: {f: *x}}\n", l);  // *x at level 3 adds 1
  REQUIRE(q);
  CHECK(q->line == 2);
  // Far deeper than yaml-cpp's own guard (2000): still our message, no crash.
  auto r = check_yaml_text(std::string(100000, '['));
  REQUIRE(r);
  CHECK(r->message.find("nesting") != std::string::npos);
}

TEST_CASE("yaml guard: an alias inside its own anchor is a cycle", "[yaml_guard]") {
  auto p = check_yaml_text("a: &x [1, *x]\n");
  REQUIRE(p);
  CHECK(p->message.find("cycle") != std::string::npos);
  CHECK(p->line == 1);
  CHECK(p->col == 11);
}

TEST_CASE("yaml guard: size limit names the line where it is crossed", "[yaml_guard]") {
  YamlLimits l;
  l.max_bytes = 20;
  auto p = check_yaml_text("a: 1234567890\nb: 1234567890\n", l);
  REQUIRE(p);
  CHECK(p->message == "the document is 28 bytes, over the limit of 20 bytes");
  CHECK(p->line == 2);
  CHECK_FALSE(check_yaml_text("a: 1\n", l));
  std::string big(k_yaml_limits.max_bytes + 1, '#');
  CHECK(check_yaml_text(big));
}

TEST_CASE("yaml guard: NUL, control bytes and invalid UTF-8 are refused with their position",
          "[yaml_guard]") {
  auto p = check_yaml_text(std::string("a: b\nc: d\0e\n", 12));
  REQUIRE(p);
  CHECK(p->message == "byte 0x00 is not allowed in YAML text (binary input?)");
  CHECK(p->line == 2);
  CHECK(p->col == 5);
  CHECK_FALSE(p->quote);
  CHECK(check_yaml_text("a: \x1b[31m\n"));
  auto u = check_yaml_text("a: \xff\xfe\n");
  REQUIRE(u);
  CHECK(u->message.find("invalid UTF-8") != std::string::npos);
  CHECK(check_yaml_text("a: \xc0\xaf\n"));      // overlong
  CHECK(check_yaml_text("a: \xed\xa0\x80\n"));  // surrogate
  CHECK(check_yaml_text("a: \xe2\x82"));        // truncated
  CHECK(
      check_yaml_text(std::string("\xff\xfe"
                                  "a\0:\0",
                                  6)));  // UTF-16
}
