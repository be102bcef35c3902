// The seed verbs without a process: --write-file parsing, a whole seed from files on disk, and
// the errors a user gets for bad flags.
#include "seed/seed_command.hpp"

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include "common/fs.hpp"

namespace fs = binder::common::fs;
using binder::seed::SeedCommand;

namespace {

struct Inputs {
  fs::TempDir dir;
  SeedCommand cmd;
};

Inputs inputs() {
  auto d = fs::TempDir::create("seed-command-test");
  REQUIRE(d);
  Inputs in{std::move(*d), {}};
  auto p = in.dir.path();
  REQUIRE(fs::write_file_atomic(p / "member.yaml", "name: smoke\ndomain: example.test\n", 0600));
  REQUIRE(fs::write_file_atomic(p / "ca.pem",
                                "-----BEGIN CERTIFICATE-----\nAA==\n"
                                "-----END CERTIFICATE-----\n"));
  REQUIRE(fs::write_file_atomic(p / "kube.yaml", "apiVersion: v1\nkind: Config\n"));
  in.cmd.member = p / "member.yaml";
  in.cmd.output = p / "seed.iso";
  in.cmd.ca = p / "ca.pem";
  in.cmd.write_files = {"/etc/binder-image/test/fake-kube.yaml=" + (p / "kube.yaml").string() + ":600"};
  return in;
}

}  // namespace

TEST_CASE("seed command: --write-file specs", "[seed-command]") {
  Inputs in = inputs();
  auto host = (in.dir.path() / "kube.yaml").string();
  auto f = binder::seed::parse_write_file("/etc/x.yaml=" + host + ":0640");
  REQUIRE(f);
  CHECK(f->path == "/etc/x.yaml");
  CHECK(f->permissions == "0640");
  CHECK(f->content == "apiVersion: v1\nkind: Config\n");
  auto plain = binder::seed::parse_write_file("/etc/y=" + host);
  REQUIRE(plain);
  CHECK(plain->permissions == "0644");
  CHECK_FALSE(binder::seed::parse_write_file("etc/relative=" + host));
  CHECK_FALSE(binder::seed::parse_write_file("/etc/no-host="));
  CHECK_FALSE(binder::seed::parse_write_file("/etc/no-equals"));
  auto missing = binder::seed::parse_write_file("/etc/z=/nonexistent/file");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().to_string().find("/nonexistent/file") != std::string::npos);
}

TEST_CASE("seed command: a seed from files on disk", "[seed-command]") {
  Inputs in = inputs();
  in.cmd.instance_id = "smoke-1";
  auto summary = binder::seed::run_seed(in.cmd);
  REQUIRE(summary);
  CHECK(summary->find("seed.iso") != std::string::npos);
  auto seed = binder::seed::read_seed_iso(in.cmd.output);
  REQUIRE(seed);
  YAML::Node ud = YAML::Load(seed->user_data);
  CHECK(ud["binder_member"]["name"].as<std::string>() == "smoke");
  REQUIRE(ud["write_files"].size() == 3);  // CA file, CA appended to the bundle, fake-kube.yaml
  CHECK(ud["write_files"][1]["content"].as<std::string>().starts_with("-----BEGIN CERTIFICATE-----"));
  CHECK(ud["write_files"][2]["permissions"].as<std::string>() == "0600");
  YAML::Node md = YAML::Load(seed->meta_data);
  CHECK(md["instance-id"].as<std::string>() == "smoke-1");
  CHECK(md["local-hostname"].as<std::string>() == "smoke");
  CHECK_FALSE(seed->network_config);
}

TEST_CASE("seed command: bad inputs are clear errors and write nothing", "[seed-command]") {
  Inputs in = inputs();
  SECTION("--ca that is not PEM") {
    REQUIRE(fs::write_file_atomic(in.dir.path() / "ca.pem", "not a cert\n"));
    auto r = binder::seed::run_seed(in.cmd);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == binder::common::Errc::usage);
  }
  SECTION("no --output") {
    in.cmd.output.clear();
    CHECK_FALSE(binder::seed::run_seed(in.cmd));
  }
  SECTION("member without a name") {
    REQUIRE(fs::write_file_atomic(in.dir.path() / "member.yaml", "domain: x\n"));
    auto r = binder::seed::run_seed(in.cmd);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == binder::common::Errc::invalid_config);
  }
  CHECK_FALSE(std::filesystem::exists(in.dir.path() / "seed.iso"));
}

TEST_CASE("seed command: member-data prints the user-data", "[seed-command]") {
  Inputs in = inputs();
  auto ud = binder::seed::run_member_data(in.cmd);
  REQUIRE(ud);
  CHECK(ud->starts_with("#cloud-config\n"));
  CHECK(YAML::Load(*ud)["write_files"][2]["path"].as<std::string>() ==
        "/etc/binder-image/test/fake-kube.yaml");
}
