// Hostile and odd YAML in the metadata parser: duplicate keys, alias bombs, cycles, binary
// input, long scalars, and the core-schema typing of plain scalars.
#include "firstboot/metadata/source_doc.hpp"

#include <chrono>

#include <catch2/catch.hpp>

#include "firstboot/metadata/load.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
using binder::firstboot::testing::TestRoot;

namespace {

std::string bomb_member(int levels) {
  std::string doc = "#cloud-config\nbinder_member:\n  name: x\n  l0: &l0 [lol, lol]\n";
  for (int i = 1; i <= levels; ++i) {
    doc += fmt::format("  l{}: &l{} [", i, i);
    for (int k = 0; k < 10; ++k) {
      doc += fmt::format("{}*l{}", k == 0 ? "" : ",", i - 1);
    }
    doc += "]\n";
  }
  return doc;
}

std::string error_of(std::string_view text) {
  auto r = parse_yaml_doc(text, "user-data");
  REQUIRE(!r);
  CHECK(r.error().code == binder::common::Errc::invalid_config);
  return r.error().to_string();
}

}  // namespace

TEST_CASE("source doc: duplicate keys are refused naming both lines", "[metadata][hostile]") {
  CHECK(error_of("a: 1\nb: 2\na: 3\n") == "user-data:3:1: duplicate key 'a' (first at line 1)");
  CHECK(error_of("node:\n  ntp: [a]\n  disk: x\n  ntp: [b]\n") ==
        "user-data:4:3: duplicate key 'ntp' (first at line 2)");
  CHECK(error_of("? [a]\n: 1\n").find("mapping keys must be plain strings") != std::string::npos);
  // The same key in different mappings is fine.
  CHECK(parse_yaml_doc("a: {k: 1}\nb: {k: 2}\n", "x"));
}

TEST_CASE("source doc: alias bomb, cycle and deep nesting fail fast with the limit", "[metadata][hostile]") {
  auto start = std::chrono::steady_clock::now();
  auto e = error_of(bomb_member(9).substr(14));  // without "#cloud-config\n": plain YAML
  CHECK(e.find("user-data:8:") == 0);
  CHECK(e.find("alias expansion exceeds the limit of 100000 nodes") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
  CHECK(error_of("a: &x [1, *x]\n").find("cycle") != std::string::npos);
  CHECK(error_of(std::string(100, '[') + std::string(100, ']')) ==
        "user-data:1:65: YAML nesting exceeds the limit of 64 levels");
  CHECK(error_of(std::string(100000, '[')).find("nesting exceeds the limit") != std::string::npos);
  // Aliases within the limit still expand to copies.
  auto ok = parse_yaml_doc("a: &x {k: [1, 2]}\nb: *x\n", "x");
  REQUIRE(ok);
  CHECK(ok->value["b"]["k"][1] == 2);
}

TEST_CASE("source doc: binary input is refused at the first bad byte", "[metadata][hostile]") {
  CHECK(error_of(std::string("name: a\0b\n", 10)) ==
        "user-data:1:8: byte 0x00 is not allowed in YAML text (binary input?)");
  CHECK(error_of("name: \x89PNG\n").find("invalid UTF-8") != std::string::npos);
}

TEST_CASE("source doc: long plain scalars are typed without recursion", "[metadata][hostile]") {
  // std::regex overflowed the stack on this (a 400 KB scalar in user-data).
  std::string digits(400000, '7');
  auto r = parse_yaml_doc("n: " + digits + "\nf: " + digits + ".5e3x\n", "x");
  REQUIRE(r);
  CHECK(r->value["n"] == digits);  // out of range for int64: kept as text, as before
  CHECK(r->value["f"] == digits + ".5e3x");
}

TEST_CASE("source doc: plain scalar typing follows the YAML 1.2 core schema", "[metadata]") {
  auto r = parse_yaml_doc(
      "i: 42\nn: -7\np: +3\nf: 1.5\ng: .5\nh: 2.\ne: 1e3\nE: -1.5E-2\ns: 1.2.3\nt: 1e\nu: .\n"
      "v: '42'\nw: 0x1f\nx: 10.0.0.1\ny: ~\nz: True\n",
      "x");
  REQUIRE(r);
  const auto& v = r->value;
  CHECK(v["i"] == 42);
  CHECK(v["n"] == -7);
  CHECK(v["p"] == 3);
  CHECK(v["f"] == 1.5);
  CHECK(v["g"] == 0.5);
  CHECK(v["h"] == 2.0);
  CHECK(v["e"] == 1000.0);
  CHECK(v["E"] == -0.015);
  CHECK(v["s"] == "1.2.3");
  CHECK(v["t"] == "1e");
  CHECK(v["u"] == ".");
  CHECK(v["v"] == "42");
  CHECK(v["w"] == "0x1f");
  CHECK(v["x"] == "10.0.0.1");
  CHECK(v["y"].is_null());
  CHECK(v["z"] == true);
}

TEST_CASE("metadata: a hostile cloud-config user-data stops the load with its file and line",
          "[metadata][hostile]") {
  TestRoot t;
  t.write("/var/lib/cloud/instance/user-data.txt", bomb_member(7));
  auto r = load_member(LoadOptions{t.dir.path(), std::nullopt, false}, t.runner);
  REQUIRE(!r);
  CHECK(r.error().code == binder::common::Errc::invalid_config);
  auto msg = r.error().to_string();
  CHECK(msg.find("user-data.txt:9:") != std::string::npos);
  CHECK(msg.find("100000 nodes") != std::string::npos);

  TestRoot d;
  d.write("/var/lib/cloud/instance/user-data.txt",
          "#cloud-config\nbinder_member:\n  name: a\n  domain: b\n  name: c\n");
  auto r2 = load_member(LoadOptions{d.dir.path(), std::nullopt, false}, d.runner);
  REQUIRE(!r2);
  CHECK(r2.error().to_string().find("user-data.txt:5:3: duplicate key 'name' (first at line 3)") !=
        std::string::npos);
}

TEST_CASE("source doc: cloud-init JSON nesting is bounded too", "[metadata][hostile]") {
  auto deep = parse_json_doc(std::string(100000, '[') + std::string(100000, ']'), "ci.json");
  REQUIRE(!deep);
  CHECK(deep.error().message == "'ci.json': JSON nesting exceeds the limit of 64 levels");
  auto ok = parse_json_doc(R"({"merged_cfg": {"binder_member": {"name": "x", "node": {"ntp": ["a"]}}}})",
                           "ci.json");
  REQUIRE(ok);
  CHECK(ok->value["merged_cfg"]["binder_member"]["node"]["ntp"][0] == "a");
}
