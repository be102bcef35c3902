// Machine facts: meminfo parsing and the public IP discovery order with its reported source.
#include "firstboot/facts.hpp"

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "firstboot/address_class.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
using binder::firstboot::testing::TestRoot;

TEST_CASE("facts: MemTotal from /proc/meminfo", "[facts]") {
  CHECK(parse_meminfo("MemTotal:       16318412 kB\nMemFree: 1 kB\n") == 16318412ull * 1024);
  CHECK(!parse_meminfo("MemFree: 1 kB\n"));
}

TEST_CASE("facts: public IP from metadata, then instance data, then the default route", "[facts]") {
  TestRoot t;
  int ip_calls = 0;  // route lookups
  t.runner.handler = [&](const std::vector<std::string>& argv, const auto&) {
    if (argv == std::vector<std::string>{"ip", "-j", "addr", "show"}) {
      return testing::ok_output(
          R"([{"ifname":"eth0","addr_info":[{"family":"inet","local":"192.0.2.10"}]}])");
    }
    ++ip_calls;
    CHECK(argv == std::vector<std::string>{"ip", "-j", "route", "get", "1.1.1.1"});
    return testing::ok_output(
        R"([{"dst":"1.1.1.1","gateway":"172.31.1.1","dev":"eth0","prefsrc":"192.0.2.10","uid":0,"cache":[]}])");
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
    t.write("/run/cloud-init/instance-data.json",
            R"({"ds": {"meta_data": {"public_ipv4": "198.51.100.4"}}})");
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

namespace {

std::string instance_data(const char* cloud) {
  auto text = binder::common::fs::read_file(std::string(BINDER_TESTS_DIR) + "/fixtures/instance-data/" +
                                            cloud + ".json");
  REQUIRE(text);
  return *text;
}

// `ip -j addr show` with lo and eth0 at `nic_ip`; `ip -j route get` with prefsrc `nic_ip`.
testing::FakeRunner::Handler machine_with_nic(std::string nic_ip) {
  return [nic_ip](const std::vector<std::string>& argv, const auto&) {
    if (argv.size() >= 3 && argv[2] == "addr") {
      return testing::ok_output(
          R"([{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},)"
          R"({"ifname":"eth0","addr_info":[{"family":"inet","local":")" +
          nic_ip + R"(","prefixlen":24},{"family":"inet6","local":"fe80::1","prefixlen":64}]}])");
    }
    return testing::ok_output(R"([{"dst":"1.1.1.1","dev":"eth0","prefsrc":")" + nic_ip + R"("}])");
  };
}

}  // namespace

TEST_CASE("facts: the public IP from each cloud's instance data, NAT when it is not on a NIC",
          "[facts][public-ip]") {
  struct Row {
    const char* cloud;
    const char* nic;       // the NIC's own (private) address
    const char* expected;  // the public address
    const char* source;
  };
  for (const Row& r : std::vector<Row>{
           {"aws", "172.31.40.81", "198.51.100.20", "cloud-init instance data"},
           {"openstack", "192.168.17.5", "203.0.113.44", "cloud-init instance data"},
           {"gce", "10.132.0.7", "192.0.2.77", "cloud-init instance data"},
           {"azure", "10.1.0.4", "198.51.100.99", "cloud-init instance data"},
       }) {
    INFO(r.cloud);
    TestRoot t;
    t.runner.handler = machine_with_nic(r.nic);
    t.write("/run/cloud-init/instance-data.json", instance_data(r.cloud));
    auto ip = discover_public_ip(t.dir.path(), Member{}, t.runner);
    REQUIRE(ip);
    CHECK(ip->address == r.expected);
    CHECK(ip->source == r.source);
    CHECK(!ip->on_nic);  // behind the cloud's 1:1 NAT
    CHECK(t.runner.calls == std::vector<std::vector<std::string>>{{"ip", "-j", "addr", "show"}});
  }
  SECTION("the public address on the NIC (OVH/Hetzner style) is not NAT") {
    TestRoot t;
    t.runner.handler = machine_with_nic("198.51.100.20");
    t.write("/run/cloud-init/instance-data.json", instance_data("aws"));
    auto ip = discover_public_ip(t.dir.path(), Member{}, t.runner);
    REQUIRE(ip);
    CHECK(ip->on_nic);
  }
}

TEST_CASE("facts: no cloud metadata: the default route, refused when private", "[facts][public-ip]") {
  TestRoot t;
  t.write("/run/cloud-init/instance-data.json", instance_data("nocloud"));
  SECTION("a public address on the NIC") {
    t.runner.handler = machine_with_nic("192.0.2.10");
    auto ip = discover_public_ip(t.dir.path(), Member{}, t.runner);
    REQUIRE(ip);
    CHECK(ip->address == "192.0.2.10");
    CHECK(ip->source == "default route");
    CHECK(ip->on_nic);
  }
  SECTION("QEMU's 10.0.2.15 is refused, naming the default route (exit 2)") {
    t.runner.handler = machine_with_nic("10.0.2.15");
    auto ip = discover_public_ip(t.dir.path(), Member{}, t.runner);
    REQUIRE(!ip);
    CHECK(ip.error().code == Errc::invalid_config);
    CHECK(binder::common::exit_code_for(ip.error()) == 2);
    CHECK_THAT(ip.error().message, Catch::Contains("10.0.2.15 from the default route's source address") &&
                                       Catch::Contains("private (RFC 1918) (10.0.0.0/8)") &&
                                       Catch::Contains("public_ip_private_ok: true"));
  }
}

TEST_CASE("facts: a private address in the cloud's metadata is refused, naming file and key",
          "[facts][public-ip]") {
  TestRoot t;
  t.runner.handler = machine_with_nic("172.31.40.81");
  t.write("/run/cloud-init/instance-data.json",
          R"({"ds": {"meta_data": {"public-ipv4": "100.64.12.1", "local-ipv4": "172.31.40.81"}}})");
  auto ip = discover_public_ip(t.dir.path(), Member{}, t.runner);
  REQUIRE(!ip);
  CHECK(ip.error().code == Errc::invalid_config);
  CHECK_THAT(ip.error().message,
             Catch::Contains("100.64.12.1 from cloud-init instance data (/run/cloud-init/instance-data.json "
                             "ds.meta_data.public-ipv4) is shared address space / CGNAT (RFC 6598)"));
}

TEST_CASE("facts: an explicit private public_ip needs public_ip_private_ok", "[facts][public-ip]") {
  TestRoot t;
  t.runner.handler = machine_with_nic("10.0.2.15");
  Member m;
  m.public_ip = "10.0.2.15";
  auto refused = discover_public_ip(t.dir.path(), m, t.runner);
  REQUIRE(!refused);
  CHECK_THAT(refused.error().message, Catch::Contains("from the metadata's public_ip"));
  m.public_ip_private_ok = true;
  auto ip = discover_public_ip(t.dir.path(), m, t.runner);
  REQUIRE(ip);
  CHECK(ip->address == "10.0.2.15");
  CHECK(ip->on_nic);
  SECTION("a stated public address not on a NIC is NAT") {
    m.public_ip = "203.0.113.7";
    m.public_ip_private_ok = false;
    auto nat = discover_public_ip(t.dir.path(), m, t.runner);
    REQUIRE(nat);
    CHECK(!nat->on_nic);
  }
}

TEST_CASE("address classes: one table, first match", "[facts][address-class]") {
  struct Row {
    const char* ip;
    bool publishable;
    const char* name;
  };
  for (const Row& r : std::vector<Row>{
           {"10.1.2.3", false, "private (RFC 1918)"},
           {"172.16.0.1", false, "private (RFC 1918)"},
           {"172.31.255.255", false, "private (RFC 1918)"},
           {"172.32.0.1", true, "global unicast"},
           {"192.168.0.1", false, "private (RFC 1918)"},
           {"100.64.0.1", false, "shared address space / CGNAT (RFC 6598)"},
           {"100.127.255.255", false, "shared address space / CGNAT (RFC 6598)"},
           {"100.128.0.1", true, "global unicast"},
           {"169.254.169.254", false, "link-local (RFC 3927)"},
           {"127.0.0.1", false, "loopback (RFC 1122)"},
           {"0.0.0.0", false, "\"this network\" (RFC 791)"},
           {"224.0.0.1", false, "multicast (RFC 5771)"},
           {"255.255.255.255", false, "reserved and broadcast (RFC 1112)"},
           {"192.0.2.1", true, "documentation TEST-NET-1 (RFC 5737)"},
           {"198.51.100.1", true, "documentation TEST-NET-2 (RFC 5737)"},
           {"203.0.113.7", true, "documentation TEST-NET-3 (RFC 5737)"},
           {"8.8.8.8", true, "global unicast"},
           {"::1", false, "loopback (RFC 4291)"},
           {"::", false, "unspecified (RFC 4291)"},
           {"fd00::1", false, "unique local (RFC 4193)"},
           {"fc12::1", false, "unique local (RFC 4193)"},
           {"fe80::1", false, "link-local (RFC 4291)"},
           {"ff02::1", false, "multicast (RFC 4291)"},
           {"::ffff:10.0.0.1", false, "private (RFC 1918)"},
           {"::ffff:198.51.100.1", true, "documentation TEST-NET-2 (RFC 5737)"},
           {"2001:db8::5", true, "documentation (RFC 3849)"},
           {"2a01:4f8::1", true, "global unicast"},
       }) {
    INFO(r.ip);
    auto c = classify_address(r.ip);
    REQUIRE(c);
    CHECK(c->publishable == r.publishable);
    CHECK(c->name == r.name);
    CHECK(static_cast<bool>(check_publishable(r.ip, "test")) == r.publishable);
  }
  CHECK(!classify_address("300.1.1.1"));
  CHECK(!classify_address("example.org"));
}
