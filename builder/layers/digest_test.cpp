#include "layers/digest.hpp"

#include <catch2/catch.hpp>

using namespace binder::layers;

TEST_CASE("digest: transcripts parse back into their fields", "[digest]") {
  auto t = begin_transcript("system", "abc", "a=1\nb=2\n");
  t.add("file:etc/x", "file 0644 0:0 sha256=00");
  auto fields = parse_transcript(t.text());
  REQUIRE(fields.size() == 6);
  CHECK(fields[0] == std::pair<std::string, std::string>{"format", "layer-v1"});
  CHECK(fields[4].second == "a=1\nb=2\n");
  CHECK(fields[5].first == "file:etc/x");
}

TEST_CASE("digest: differences are explained per setting and file", "[digest]") {
  auto a = begin_transcript("system", "p1", "k3s.version=v1\nntp=a\n");
  a.add("file:etc/x", "1");
  a.add("file:etc/gone", "1");
  auto b = begin_transcript("system", "p2", "k3s.version=v2\nntp=a\n");
  b.add("file:etc/x", "2");
  b.add("file:etc/new", "1");
  auto why = explain_difference(a.text(), b.text());
  CHECK(why == std::vector<std::string>{"parent layer changed", "setting 'k3s.version': 'v1' -> 'v2'",
                                        "file 'etc/x' changed", "file 'etc/new' added",
                                        "file 'etc/gone' removed"});
  CHECK(explain_difference(a.text(), a.text()).empty());
}
