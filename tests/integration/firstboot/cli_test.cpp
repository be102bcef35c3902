// The real binder-firstboot binary: verbs, exit codes, stdout vs stderr, and that it links only
// glibc dynamically.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "support/test_ca.hpp"

namespace fs = binder::common::fs;
using nlohmann::json;

namespace {

const std::string k_bin = std::string(BINDER_BIN_DIR) + "/firstboot/binder-firstboot";

int run(const std::vector<std::string>& args, std::string* out, std::string* err = nullptr) {
  std::vector<std::string> argv = {k_bin};
  argv.insert(argv.end(), args.begin(), args.end());
  return binder::test::run_capture(argv, out, err);
}

const char* k_member = R"(binder_member:
  name: example
  domain: mybinder.org
  mode: standalone
  public_ip: 203.0.113.7
  node: {extra_disk: none}
  registry: {s3: {endpoint: "https://s3.example.org", bucket: b, access_key: AKIDEXAMPLE77, secret_key: wJalrXUtnFEMI-secret}}
)";

}  // namespace

TEST_CASE("cli: ldd shows only glibc", "[cli][integration]") {
  std::string out;
  REQUIRE(binder::test::run_capture({"ldd", k_bin}, &out) == 0);
  std::istringstream lines(out);
  std::string line;
  int libs = 0;
  while (std::getline(lines, line)) {
    INFO(line);
    bool glibc =
        line.find("linux-vdso") != std::string::npos || line.find("libc.so.6") != std::string::npos ||
        line.find("libm.so.6") != std::string::npos || line.find("ld-linux") != std::string::npos ||
        line.find("libpthread.so") != std::string::npos || line.find("libdl.so") != std::string::npos;
    CHECK(glibc);
    ++libs;
  }
  CHECK(libs >= 2);
}

TEST_CASE("cli: help, usage errors and unknown verbs", "[cli][integration]") {
  std::string out, err;
  CHECK(run({"--help"}, &out) == 0);
  CHECK(out.find("usage: binder-firstboot VERB") != std::string::npos);
  for (const char* verb : {"run", "status", "plan"}) {
    CHECK(run({verb, "--help"}, &out) == 0);
    CHECK(out.find(std::string("usage: binder-firstboot ") + verb) != std::string::npos);
  }
  CHECK(run({"frobnicate"}, &out, &err) == 2);
  CHECK(err.find("unknown verb 'frobnicate'") != std::string::npos);
  CHECK(run({"status", "--bogus"}, &out, &err) == 2);
}

TEST_CASE("cli: plan changes nothing and hides secrets, status --json after a failed run",
          "[cli][integration]") {
  auto root = *fs::TempDir::create("cli-root");
  auto meta = root.path() / "member.yaml";
  REQUIRE(fs::write_file_atomic(meta, k_member));
  std::string out, err;
  REQUIRE(run({"plan", "--root", root.path().string(), "--metadata", meta.string(), "--json"}, &out, &err) ==
          0);
  auto plan = json::parse(out);
  CHECK(plan["facts"]["public_ip_source"] == "metadata");
  CHECK(plan["steps"][0]["id"] == "host:hostname");
  CHECK(out.find("wJalrXUtnFEMI-secret") == std::string::npos);
  CHECK(err.find("wJalrXUtnFEMI-secret") == std::string::npos);
  CHECK(!std::filesystem::exists(root.path() / "etc"));
  CHECK(!std::filesystem::exists(root.path() / "var/lib/binder-firstboot/journal"));

  // run: host and k3s steps complete under the root; the join then fails without a cluster.
  int rc = run({"run", "--root", root.path().string(), "--metadata", meta.string()}, &out, &err);
  CHECK((rc == 1 || rc == 75));
  CHECK(err.find("wJalrXUtnFEMI-secret") == std::string::npos);
  CHECK(err.find("<6>step 'host:hostname': ") != std::string::npos);  // journald prefixes, step names
  CHECK(*fs::read_file(root.path() / "etc/hostname") == "example\n");
  REQUIRE(run({"status", "--root", root.path().string(), "--json"}, &out, &err) == 0);
  auto status = json::parse(out);
  CHECK(status["complete"] == false);
  CHECK(!status["last_error"].is_null());
  CHECK(status["member"]["fqdn"] == "example.mybinder.org");
  REQUIRE(run({"status", "--root", root.path().string()}, &out, &err) == 0);
  CHECK(out.find("state: failed (will retry)") != std::string::npos);
  CHECK(out.find("host:hostname          done") != std::string::npos);
}

TEST_CASE("cli: invalid metadata exits 2 with file, line and key path", "[cli][integration]") {
  auto root = *fs::TempDir::create("cli-root");
  auto meta = root.path() / "member.yaml";
  REQUIRE(fs::write_file_atomic(meta, "binder_member:\n  name: example\n  domian: mybinder.org\n"));
  std::string out, err;
  CHECK(run({"run", "--root", root.path().string(), "--metadata", meta.string()}, &out, &err) == 2);
  CHECK(err.find(
            "member.yaml:3:3: error: binder_member.domian: unknown key 'domian', did you mean 'domain'?") !=
        std::string::npos);
  CHECK(!std::filesystem::exists(root.path() / "etc/hostname"));
}

TEST_CASE("cli: render refuses a private --public-ip as the agent would (exit 2)", "[cli][integration]") {
  auto root = *fs::TempDir::create("cli-root");
  auto meta = root.path() / "member.yaml";
  std::string member = k_member;
  member.replace(member.find("public_ip: 203.0.113.7"), 22, "public_ip: auto");
  REQUIRE(fs::write_file_atomic(meta, member));
  std::string out, err;
  for (const char* ip : {"10.0.2.15", "100.64.1.1", "169.254.1.1", "127.0.0.1", "fe80::1"}) {
    INFO(ip);
    CHECK(run({"render", "dns-records", "--metadata", meta.string(), "--public-ip", ip}, &out, &err) == 2);
    CHECK(out.empty());
    CHECK(err.find(std::string("public IP ") + ip +
                   " from --public-ip (a machine fact, as if detected) is") != std::string::npos);
  }
  REQUIRE(run({"render", "dns-records", "--metadata", meta.string(), "--public-ip", "198.51.100.3"}, &out,
              &err) == 0);
  CHECK(out.find("\"198.51.100.3\"") != std::string::npos);
}

TEST_CASE("cli: metadata with a private public_ip exits 2 unless public_ip_private_ok",
          "[cli][integration]") {
  auto root = *fs::TempDir::create("cli-root");
  auto meta = root.path() / "member.yaml";
  std::string member = k_member;
  member.replace(member.find("public_ip: 203.0.113.7"), 22, "public_ip: 10.0.2.15");
  REQUIRE(fs::write_file_atomic(meta, member));
  std::string out, err;
  CHECK(run({"render", "dns-records", "--metadata", meta.string()}, &out, &err) == 2);
  CHECK(err.find("member.yaml:5:3: error: binder_member.public_ip: 10.0.2.15 is private (RFC 1918)") !=
        std::string::npos);
  member.replace(member.find("public_ip: 10.0.2.15"), 20,
                 "public_ip: 10.0.2.15\n  public_ip_private_ok: true");
  REQUIRE(fs::write_file_atomic(meta, member));
  REQUIRE(run({"render", "dns-records", "--metadata", meta.string()}, &out, &err) == 0);
  CHECK(out.find("\"10.0.2.15\"") != std::string::npos);
}
