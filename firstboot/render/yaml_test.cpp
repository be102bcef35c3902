// The YAML emitter: sorted block style, quoting of ambiguous strings, literal blocks, and a
// lossless round trip through the YAML parser.
#include "firstboot/render/yaml.hpp"

#include <catch2/catch.hpp>

using namespace binder::firstboot::render;
using nlohmann::json;

TEST_CASE("yaml: mappings are sorted block style and sequences sit under their key", "[render][yaml]") {
  json doc = {
      {"b", 1}, {"a", {{"z", true}, {"x", nullptr}}}, {"list", {"one", "two"}}, {"empty", json::object()}};
  CHECK(to_yaml(doc) == "a:\n  x: null\n  z: true\nb: 1\nempty: {}\nlist:\n- one\n- two\n");
}

TEST_CASE("yaml: strings that would change type are quoted", "[render][yaml]") {
  for (const char* s : {"",
                        "true",
                        "no",
                        "on",
                        "Y",
                        "~",
                        "null",
                        "1",
                        "1.5",
                        "1e3",
                        "0x1F",
                        "0o17",
                        ".inf",
                        "2026-01-01",
                        "12:30",
                        "-x",
                        "*.example.org",
                        "a: b",
                        "a #b",
                        " lead",
                        "trail ",
                        "{x}",
                        "@x",
                        "`x",
                        "%x",
                        "!x",
                        "&x",
                        "|x",
                        ">x",
                        "'x",
                        "\"x",
                        "x:"}) {
    INFO(s);
    CHECK(needs_quotes(s));
  }
  for (const char* s : {"example", "https://hub.example.org", "robot$p+builder",
                        "kubernetes.io/ingress.class", "450M", "12Gi", "harbor@file", "a:b", "<secret:x>"}) {
    INFO(s);
    CHECK_FALSE(needs_quotes(s));
  }
  CHECK(to_yaml(json{{"k", "true"}}) == "k: \"true\"\n");
  CHECK(to_yaml(json{{"*", "x"}}) == "\"*\": x\n");
}

TEST_CASE("yaml: multi-line strings become literal blocks with the right chomping", "[render][yaml]") {
  CHECK(to_yaml(json{{"v", "a\nb\n"}}) == "v: |\n  a\n  b\n");
  CHECK(to_yaml(json{{"v", "a\nb"}}) == "v: |-\n  a\n  b\n");
  CHECK(to_yaml(json{{"v", "a\n\nb\n\n"}}) == "v: |+\n  a\n\n  b\n\n");
  CHECK(to_yaml(json{{"v", " indented\nx"}}) == "v: \" indented\\nx\"\n");
  CHECK(to_yaml(json{{"l", json::array({json{{"k", "x\ny\n"}, {"num", 1}}})}}) ==
        "l:\n- k: |\n    x\n    y\n  num: 1\n");
}

TEST_CASE("yaml: emitting then parsing gives the same JSON", "[render][yaml]") {
  json doc = json::parse(R"({
    "s": ["true", "1", "", "a: b", "x\ny\n", "x\n\n", "tab\there", "uni ✓", "quote\"s", "back\\slash"],
    "n": [0, -3, 1.5, 40000000000.0, true, false, null],
    "nested": [[1, 2], [], {}, [{"a": {"b": [{"c": "d"}]}}]],
    "keys": {"1": "one", "yes": "y", "a b": "c", "-x": 1}
  })");
  auto back = from_yaml(to_yaml(doc), "test");
  REQUIRE(back);
  CHECK(*back == doc);
}
