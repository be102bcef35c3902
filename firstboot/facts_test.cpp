// Machine facts: meminfo parsing and the public IP discovery order with its reported source.
#include <catch2/catch.hpp>

#include "firstboot/facts.hpp"
#include "firstboot/test_seams.hpp"

using namespace binder::firstboot;
using binder::firstboot::testing::TestRoot;

TEST_CASE("facts: MemTotal from /proc/meminfo", "[facts]") {
  CHECK(parse_meminfo("MemTotal:       16318412 kB\nMemFree: 1 kB\n") == 16318412ull * 1024);
  CHECK(!parse_meminfo("MemFree: 1 kB\n"));
}

TEST_CASE("facts: public IP from metadata, then instance data, then the default route", "[facts]") {
  TestRoot t;
  int ip_calls = 0;
  t.runner.handler = [&](const std::vector<std::string>& argv, const auto&) {
    ++ip_calls;
    CHECK(argv == std::vector<std::string>{"ip", "-j", "route", "get", "1.1.1.1"});
    return testing::ok_output(R"([{"dst":"1.1.1.1","gateway":"172.31.1.1","dev":"eth0","prefsrc":"192.0.2.10","uid":0,"cache":[]}])");
  };
  Member m;
  SECTION("default route") {
    auto ip = discover_public_ip(t.dir.path(), m, t.runner);
    REQUIRE(ip);
    CHECK(ip->address == "192.0.2.10");
    CHECK(ip->source == "default route");
  }
  SECTION("cloud-init instance data (EC2-style meta-data)") {
    t.write("/run/cloud-init/instance-data.json",
            R"({"ds": {"meta_data": {"public-ipv4": "198.51.100.4"}}, "v1": {"cloud_name": "aws"}})");
    auto ip = discover_public_ip(t.dir.path(), m, t.runner);
    REQUIRE(ip);
    CHECK(ip->address == "198.51.100.4");
    CHECK(ip->source == "cloud-init instance data");
    CHECK(ip_calls == 0);
  }
  SECTION("metadata wins") {
    t.write("/run/cloud-init/instance-data.json", R"({"ds": {"meta_data": {"public_ipv4": "198.51.100.4"}}})");
    m.public_ip = "203.0.113.7";
    auto ip = discover_public_ip(t.dir.path(), m, t.runner);
    REQUIRE(ip);
    CHECK(ip->address == "203.0.113.7");
    CHECK(ip->source == "metadata");
  }
  SECTION("no route yet is temporary") {
    t.runner.handler = [](const auto&, const auto&) { return testing::fail_output(2, "unreachable"); };
    auto ip = discover_public_ip(t.dir.path(), m, t.runner);
    REQUIRE(!ip);
    CHECK(ip.error().code == Errc::temporary);
  }
}

TEST_CASE("facts: RAM from the root's /proc/meminfo when present", "[facts]") {
  TestRoot t;
  t.write("/proc/meminfo", "MemTotal:        8388608 kB\n");
  Member m;
  m.public_ip = "203.0.113.7";
  auto f = discover_facts(t.dir.path(), m, t.runner);
  REQUIRE(f);
  CHECK(f->ram_bytes == 8ull << 30);
  CHECK(f->ram_gib() == 8.0);
  CHECK(f->cpus >= 1);
}
