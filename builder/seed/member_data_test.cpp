// member-data tests: the member document arrives in user-data unchanged (quoting included), the
// cloud-config keys around it parse as cloud-init expects, and bad input names file:line:col.
#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include "common/fs.hpp"
#include "seed/seed.hpp"

using binder::seed::member_data_from_text;
using binder::seed::MemberDataOptions;

namespace {

const char* k_member = R"(# a donor's member file
name: smoke
domain: example.test
mode: federation
public_ip: auto
dns: {provider: cloudflare, zone: example.test, api_token: "tok-123456"}
registry:
  host: registry.smoke.example.test
  quota_gb: '10000'
binderhub:
  values:
    note: |
      two
      lines
)";

YAML::Node load(const std::string& text) { return YAML::Load(text); }

}  // namespace

TEST_CASE("member-data: the document lands under binder_member unchanged", "[member-data]") {
  auto ud = member_data_from_text(k_member, "member.yaml");
  REQUIRE(ud);
  CHECK(ud->starts_with("#cloud-config\n"));
  YAML::Node doc = load(*ud);
  YAML::Node m = doc["binder_member"];
  REQUIRE(m);
  CHECK(m["name"].as<std::string>() == "smoke");
  CHECK(m["dns"]["api_token"].as<std::string>() == "tok-123456");
  // A quoted number stays a string: the tag "!" marks a non-plain scalar.
  CHECK(m["registry"]["quota_gb"].Tag() == "!");
  CHECK(m["binderhub"]["values"]["note"].as<std::string>() == "two\nlines\n");
  CHECK(doc["locale"].as<std::string>() == "C.UTF-8");
  REQUIRE(doc["ssh_genkeytypes"].IsSequence());
  CHECK(doc["ssh_genkeytypes"].size() == 1);
  CHECK(doc["ssh_genkeytypes"][0].as<std::string>() == "ed25519");
  CHECK_FALSE(doc["ca_certs"]);
  CHECK_FALSE(doc["write_files"]);
}

TEST_CASE("member-data: a file already wrapped in binder_member is kept as is", "[member-data]") {
  std::string wrapped = "---\nbinder_member:\n  name: wrapped\n  domain: example.test\n";
  auto ud = member_data_from_text(wrapped, "w.yaml");
  REQUIRE(ud);
  YAML::Node doc = load(*ud);
  CHECK(doc["binder_member"]["name"].as<std::string>() == "wrapped");
  CHECK_FALSE(doc["binder_member"]["binder_member"]);
}

TEST_CASE("member-data: CA, write_files and runcmd round-trip exactly", "[member-data]") {
  MemberDataOptions o;
  o.ca_cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB\nAbC=\n-----END CERTIFICATE-----\n";
  o.write_files.push_back({"/etc/binder-image/test/fake-kube.yaml", "server: x\n  ca: |\n", "0600"});
  o.write_files.push_back({"/etc/odd", " leading space, no newline", "0644"});
  o.write_files.push_back({"/etc/empty", "", "0644"});
  o.runcmd = {"echo 'BINDER-SEED: ok' > /dev/ttyS0"};
  SECTION("the CA appended to the bundle by write_files (default: no update-ca-certificates)") {
    auto ud = member_data_from_text(k_member, "member.yaml", o);
    REQUIRE(ud);
    YAML::Node doc = load(*ud);
    CHECK_FALSE(doc["ca_certs"]);
    YAML::Node wf = doc["write_files"];
    REQUIRE(wf.size() == 5);
    CHECK(wf[0]["path"].as<std::string>().starts_with("/usr/local/share/ca-certificates/"));
    CHECK(wf[0]["content"].as<std::string>() == *o.ca_cert_pem);
    CHECK_FALSE(wf[0]["append"]);
    CHECK(wf[1]["path"].as<std::string>() == "/etc/ssl/certs/ca-certificates.crt");
    CHECK(wf[1]["append"].as<bool>());
    CHECK(wf[1]["content"].as<std::string>() == *o.ca_cert_pem);
    for (size_t i = 0; i < 3; ++i) {
      CHECK(wf[i + 2]["path"].as<std::string>() == o.write_files[i].path);
      CHECK(wf[i + 2]["content"].as<std::string>() == o.write_files[i].content);
      CHECK(wf[i + 2]["permissions"].as<std::string>() == o.write_files[i].permissions);
      CHECK_FALSE(wf[i + 2]["append"]);
    }
    CHECK(doc["runcmd"][0].as<std::string>() == o.runcmd[0]);
  }
  SECTION("the CA through cloud-init's ca_certs module") {
    o.ca_install = binder::seed::CaInstall::ca_certs_module;
    auto ud = member_data_from_text(k_member, "member.yaml", o);
    REQUIRE(ud);
    YAML::Node doc = load(*ud);
    REQUIRE(doc["ca_certs"]["trusted"].IsSequence());
    CHECK(doc["ca_certs"]["trusted"][0].as<std::string>() == *o.ca_cert_pem);
    CHECK(doc["write_files"].size() == 3);
  }
}

TEST_CASE("member-data: bad documents are errors with file:line:col", "[member-data]") {
  SECTION("YAML syntax") {
    auto r = member_data_from_text("name: [unclosed\n", "bad.yaml");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == binder::common::Errc::invalid_config);
    CHECK(r.error().message.starts_with("bad.yaml:"));
  }
  SECTION("not a mapping") {
    auto r = member_data_from_text("- a\n- b\n", "list.yaml");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with("list.yaml:1:1: error:"));
  }
  SECTION("no name") {
    auto r = member_data_from_text("domain: example.test\n", "noname.yaml");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("'name'") != std::string::npos);
  }
  SECTION("missing file") {
    auto r = binder::seed::member_data("/nonexistent/member.yaml");
    REQUIRE_FALSE(r);
  }
}

TEST_CASE("member-data: member_name and meta_data", "[member-data]") {
  auto dir = binder::common::fs::TempDir::create("member-data-test");
  REQUIRE(dir);
  auto path = dir->path() / "member.yaml";
  REQUIRE(binder::common::fs::write_file_atomic(path, k_member, 0600));
  auto name = binder::seed::member_name(path);
  REQUIRE(name);
  CHECK(*name == "smoke");
  YAML::Node md = load(binder::seed::meta_data("iid-1", "smoke"));
  CHECK(md["instance-id"].as<std::string>() == "iid-1");
  CHECK(md["local-hostname"].as<std::string>() == "smoke");
}
