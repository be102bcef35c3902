// Metadata: sources, merge order, validation messages, secrets.
#include "firstboot/metadata/load.hpp"

#include <catch2/catch.hpp>

#include "common/log.hpp"
#include "firstboot/metadata/validate.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
using binder::firstboot::testing::TestRoot;

namespace {

const char* k_base = R"(binder_member:
  name: example
  domain: mybinder.org
  dns: {provider: cloudflare, zone: mybinder.org, api_token: cf-secret-token-1}
  tls: {email: ops@example.org}
  registry:
    s3: {endpoint: "https://s3.example.org", region: eu, bucket: b, access_key: AK123456, secret_key: SK-very-secret}
  node: {extra_disk: none, ntp: [ntp.example.org]}
)";

LoadOptions opts(const TestRoot& t) { return LoadOptions{t.dir.path(), std::nullopt, false}; }

std::string load_error(TestRoot& t) {
  auto r = load_member(opts(t), t.runner);
  REQUIRE(!r);
  CHECK(r.error().code == binder::common::Errc::invalid_config);
  return r.error().to_string();
}

}  // namespace

TEST_CASE("metadata: baked file alone gives a valid member with defaults", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml", k_base);
  auto r = load_member(opts(t), t.runner);
  REQUIRE(r);
  const Member& m = r->member;
  CHECK(m.name == "example");
  CHECK(m.fqdn() == "example.mybinder.org");
  CHECK(m.mode == Mode::federation);
  CHECK(!m.public_ip);
  CHECK(m.registry_host() == "registry.example.mybinder.org");
  CHECK(m.registry->project == "mybinder-builds");
  CHECK(!m.node.max_pods_per_gib);  // unset: the image profile's value applies
  CHECK(m.node.extra_disk.kind == ExtraDiskSpec::Kind::none);
  CHECK(m.secrets().size() == 3);
  CHECK(r->sources.size() == 1);
}

TEST_CASE("metadata: later sources win, maps merge, lists are replaced", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml", k_base);
  t.write("/var/lib/cloud/instance/cloud-config.txt",
          "#cloud-config\npackages: [x]\nbinder_member:\n  name: fromci\n  node: {ntp: [a.ntp, b.ntp]}\n");
  t.write("/var/lib/cloud/seed/nocloud/user-data", "#cloud-config\nbinder_member:\n  name: fromseed\n");
  t.write("/etc/binder-image/member.d/20-b.yaml", "node: {ntp: [z.ntp]}\n");
  t.write("/etc/binder-image/member.d/10-a.yaml",
          "binder_member:\n  public_ip: 203.0.113.9\n  node: {ntp: [y.ntp], max_pods_per_gib: 2}\n");
  auto r = load_member(opts(t), t.runner);
  REQUIRE(r);
  CHECK(r->member.name == "fromci");  // cloud-init's processed data beats the raw seed
  CHECK(r->member.node.ntp == std::vector<std::string>{"z.ntp"});
  CHECK(r->member.node.max_pods_per_gib == 2);
  CHECK(r->member.node.extra_disk.kind == ExtraDiskSpec::Kind::none);  // kept from baked
  CHECK(r->member.public_ip == "203.0.113.9");
  CHECK(r->sources.size() == 4);
}

TEST_CASE("metadata: cloud-init sources are found in each place", "[metadata]") {
  const char* body = "binder_member: {name: ci, domain: example.org, mode: standalone}";
  SECTION("combined-cloud-config.json") {
    TestRoot t;
    t.write("/run/cloud-init/combined-cloud-config.json",
            R"({"binder_member": {"name": "ci", "domain": "example.org", "mode": "standalone"}})");
    auto r = load_member(opts(t), t.runner);
    REQUIRE(r);
    CHECK(r->member.name == "ci");
  }
  SECTION("instance-data-sensitive merged_cfg") {
    TestRoot t;
    t.write(
        "/run/cloud-init/instance-data-sensitive.json",
        R"({"merged_cfg": {"binder_member": {"name": "ci", "domain": "example.org", "mode": "standalone"}}})");
    REQUIRE(load_member(opts(t), t.runner));
  }
  SECTION("NoCloud seed") {
    TestRoot t;
    t.write("/var/lib/cloud/seed/nocloud-net/user-data", std::string("#cloud-config\n") + body);
    REQUIRE(load_member(opts(t), t.runner));
  }
  SECTION("ConfigDrive seed") {
    TestRoot t;
    t.write("/var/lib/cloud/seed/config_drive/openstack/latest/user_data",
            std::string("#cloud-config\n") + body);
    REQUIRE(load_member(opts(t), t.runner));
  }
  SECTION("a shell-script user-data is not metadata") {
    TestRoot t;
    t.write("/var/lib/cloud/instance/user-data.txt", std::string("#!/bin/sh\n") + body);
    CHECK(load_error(t).find("no member metadata found") != std::string::npos);
  }
  SECTION("a cidata device when live") {
    TestRoot t;
    auto seed = *binder::common::fs::TempDir::create("seed");
    (void)binder::common::fs::write_file_atomic(seed.path() / "user-data",
                                                std::string("#cloud-config\n") + body);
    t.runner.handler = [&](const std::vector<std::string>& argv, const auto&) {
      if (argv[0] == "blkid" && argv[2] == "LABEL=cidata") {
        return testing::ok_output("/dev/sr0\n");
      }
      if (argv[0] == "mount") {  // "mount" the seed: copy its file into the temp mountpoint
        (void)binder::common::fs::write_file_atomic(
            std::string(argv.back()) + "/user-data",
            *binder::common::fs::read_file(seed.path() / "user-data"));
        return testing::ok_output();
      }
      return argv[0] == "blkid" ? testing::fail_output(2) : testing::ok_output();
    };
    LoadOptions o = opts(t);
    o.live = true;
    auto r = load_member(o, t.runner);
    REQUIRE(r);
    CHECK(r->sources[0].find("/dev/sr0") != std::string::npos);
    CHECK(t.runner.count("umount") == 1);
  }
}

TEST_CASE("metadata: errors name the file, line, key path and problem", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml", k_base);
  SECTION("unknown key with suggestion") {
    t.write("/etc/binder-image/member.d/10.yaml", "node:\n  extra_disc: auto\n");
    auto e = load_error(t);
    CHECK(e.find("member.d/10.yaml:2:3: error: binder_member.node.extra_disc: unknown key "
                 "'extra_disc', did you mean 'extra_disk'?") != std::string::npos);
  }
  SECTION("bad enum value with suggestion") {
    t.write("/etc/binder-image/member.d/10.yaml", "mode: federaton\n");
    CHECK(load_error(t).find("binder_member.mode: expected one of 'federation', 'standalone', got "
                             "'federaton', did you mean 'federation'?") != std::string::npos);
  }
  SECTION("wrong type") {
    t.write("/etc/binder-image/member.d/10.yaml", "node: {ntp: pool.ntp.org}\n");
    CHECK(load_error(t).find("binder_member.node.ntp: expected a list of strings") != std::string::npos);
  }
  SECTION("missing required key in federation mode") {
    t.write("/etc/binder-image/member.yaml", "name: x\ndomain: example.org\n");
    auto e = load_error(t);
    CHECK(e.find("binder_member.dns: required in federation mode") != std::string::npos);
    CHECK(e.find("binder_member.registry: required") != std::string::npos);
    CHECK(e.find("binder_member.tls.email: required") != std::string::npos);
  }
  SECTION("invalid values") {
    t.write(
        "/etc/binder-image/member.d/10.yaml",
        "name: Not_A_Label\npublic_ip: 300.1.1.1\nnode: {extra_disk: sdb, max_pods_per_gib: -1, role: agent}\n"
        "operators: {ssh_authorized_keys: [\"not a key\"]}\nk3s: {auto_upgrade: maybe}\n");
    auto e = load_error(t);
    for (const char* what : {"binder_member.name: 'Not_A_Label' is not a DNS label",
                             "binder_member.public_ip: expected 'auto' or an IP address",
                             "binder_member.node.extra_disk: expected 'auto', 'none' or a /dev/ path",
                             "binder_member.node.max_pods_per_gib", "binder_member.node.server_url",
                             "binder_member.node.token: an agent node needs",
                             "binder_member.operators.ssh_authorized_keys[0]: not an OpenSSH",
                             "binder_member.k3s.auto_upgrade: expected true or false"}) {
      INFO(what);
      CHECK(e.find(what) != std::string::npos);
    }
  }
  SECTION("a private public_ip needs public_ip_private_ok, which needs an explicit address") {
    t.write("/etc/binder-image/member.d/10.yaml", "public_ip: 192.168.1.5\n");
    CHECK(load_error(t).find("member.d/10.yaml:1:1: error: binder_member.public_ip: 192.168.1.5 is "
                             "private (RFC 1918) (192.168.0.0/16)") != std::string::npos);
    t.write("/etc/binder-image/member.d/10.yaml", "public_ip: fd00::5\n");
    CHECK(load_error(t).find("binder_member.public_ip: fd00::5 is unique local (RFC 4193)") !=
          std::string::npos);
    t.write("/etc/binder-image/member.d/10.yaml", "public_ip: auto\npublic_ip_private_ok: true\n");
    CHECK(load_error(t).find("binder_member.public_ip_private_ok: true needs an explicit public_ip") !=
          std::string::npos);
    t.write("/etc/binder-image/member.d/10.yaml", "public_ip: 10.0.2.15\npublic_ip_private_ok: yes please\n");
    CHECK(load_error(t).find("binder_member.public_ip_private_ok: expected true or false") !=
          std::string::npos);
    t.write("/etc/binder-image/member.d/10.yaml", "public_ip: 10.0.2.15\npublic_ip_private_ok: true\n");
    auto r = load_member(opts(t), t.runner);
    REQUIRE(r);
    CHECK(r->member.public_ip == "10.0.2.15");
    CHECK(r->member.public_ip_private_ok);
    CHECK(r->member.to_json()["public_ip_private_ok"] == true);
  }
  SECTION("ntp_mode: add or replace; replace needs servers") {
    t.write("/etc/binder-image/member.d/10.yaml", "node: {ntp_mode: swap}\n");
    CHECK(load_error(t).find("binder_member.node.ntp_mode: expected one of 'add', 'replace'") !=
          std::string::npos);
    t.write("/etc/binder-image/member.d/10.yaml", "node: {ntp_mode: replace, ntp: []}\n");
    CHECK(load_error(t).find("binder_member.node.ntp_mode: replace needs a node.ntp list") !=
          std::string::npos);
    t.write("/etc/binder-image/member.d/10.yaml", "node: {ntp_mode: replace, ntp: [time.example.org]}\n");
    auto r = load_member(opts(t), t.runner);
    REQUIRE(r);
    CHECK(r->member.node.ntp_mode == NtpMode::replace);
    CHECK(r->member.to_json()["node"]["ntp_mode"] == "replace");
  }
  SECTION("YAML syntax error has a location") {
    t.write("/etc/binder-image/member.d/10.yaml", "node: {ntp: [a\n");
    CHECK(load_error(t).find("member.d/10.yaml:") != std::string::npos);
  }
  SECTION("x- keys are free") {
    t.write("/etc/binder-image/member.d/10.yaml", "x-note: hello\n");
    REQUIRE(load_member(opts(t), t.runner));
  }
}

TEST_CASE("metadata: secrets are registered and never printed", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml", k_base);
  auto r = load_member(opts(t), t.runner);
  REQUIRE(r);
  CHECK(binder::common::log::redact("token cf-secret-token-1 and SK-very-secret") ==
        "token <redacted> and <redacted>");
  auto redacted = r->member.to_json(Redact::yes).dump();
  CHECK(redacted.find("SK-very-secret") == std::string::npos);
  CHECK(redacted.find("AK123456") == std::string::npos);
}

TEST_CASE("metadata: normalized member.json is 0600 and round-trips", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml", k_base);
  auto r = load_member(opts(t), t.runner);
  REQUIRE(r);
  REQUIRE(save_member_json(t.dir.path(), r->member));
  auto p = t.path("/var/lib/binder-firstboot/member.json");
  CHECK((std::filesystem::status(p).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  auto doc = parse_json_doc(t.read("/var/lib/binder-firstboot/member.json"), p.string());
  REQUIRE(doc);
  auto again = member_from_doc(*doc);
  REQUIRE(again);
  CHECK(again->to_json() == r->member.to_json());
}

TEST_CASE("metadata: endpoint overrides are validated", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml", k_base);
  t.write(
      "/etc/binder-image/member.d/10.yaml",
      "endpoints: {cloudflare: \"https://10.0.2.2:8443/client/v4\", harbor: \"https://10.0.2.2:9443\", ca_file: /etc/binder-image/test/ca.pem}\n");
  auto r = load_member(opts(t), t.runner);
  REQUIRE(r);
  CHECK(r->member.endpoints.cloudflare == "https://10.0.2.2:8443/client/v4");
  CHECK(r->member.endpoints.ca_file == "/etc/binder-image/test/ca.pem");
  t.write("/etc/binder-image/member.d/10.yaml", "endpoints: {harbor: \"http://x\", ca_file: rel.pem}\n");
  auto e = load_error(t);
  CHECK(e.find("binder_member.endpoints.harbor: 'http://x' is not an https:// URL") != std::string::npos);
  CHECK(e.find("binder_member.endpoints.ca_file: must be an absolute path") != std::string::npos);
}

TEST_CASE("metadata: status_url is an https URL, empty by default", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml", k_base);
  auto r = load_member(opts(t), t.runner);
  REQUIRE(r);
  CHECK(r->member.status_url.empty());
  t.write("/etc/binder-image/member.d/10.yaml", "status_url: \"https://status.example.org/members/x\"\n");
  r = load_member(opts(t), t.runner);
  REQUIRE(r);
  CHECK(r->member.status_url == "https://status.example.org/members/x");
  CHECK(r->member.to_json()["status_url"] == "https://status.example.org/members/x");
  t.write("/etc/binder-image/member.d/10.yaml", "status_url: \"http://status.example.org/\"\n");
  CHECK(load_error(t).find("binder_member.status_url: 'http://status.example.org/' is not an https:// URL") !=
        std::string::npos);
  t.write("/etc/binder-image/member.d/10.yaml", "status_url: \"https://user:pw@status.example.org/\"\n");
  CHECK(load_error(t).find("binder_member.status_url: ") != std::string::npos);
  CHECK(load_error(t).find("credentials in URLs are not supported") != std::string::npos);
}

TEST_CASE("metadata: cluster_name defaults to name and must be a DNS label", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml", k_base);
  auto r = load_member(opts(t), t.runner);
  REQUIRE(r);
  CHECK(r->member.cluster() == "example");
  t.write("/etc/binder-image/member.d/10.yaml", "cluster_name: example-ovh\n");
  r = load_member(opts(t), t.runner);
  REQUIRE(r);
  CHECK(r->member.cluster() == "example-ovh");
  CHECK(r->member.fqdn() == "example.mybinder.org");  // hostnames keep the DNS label
  CHECK(r->member.to_json()["cluster_name"] == "example-ovh");
  t.write("/etc/binder-image/member.d/10.yaml", "cluster_name: Example_OVH\n");
  auto e = load_error(t);
  CHECK(e.find("binder_member.cluster_name: 'Example_OVH' is not a DNS label") != std::string::npos);
}

TEST_CASE("metadata: a donor's GitHub token is a secret", "[metadata]") {
  TestRoot t;
  t.write("/etc/binder-image/member.yaml", k_base);
  t.write("/etc/binder-image/member.d/10.yaml", "binderhub: {github_token: ghp_donor_token_123}\n");
  auto r = load_member(opts(t), t.runner);
  REQUIRE(r);
  CHECK(r->member.binderhub.github_token == "ghp_donor_token_123");
  CHECK(r->member.to_json(Redact::yes)["binderhub"]["github_token"] == "<redacted>");
  CHECK(r->member.secrets().size() == 4);
  CHECK(binder::common::log::redact("x ghp_donor_token_123 y").find("ghp_donor") == std::string::npos);
}
