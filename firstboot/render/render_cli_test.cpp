// The render verb: flags, exit codes, and that it never prints a secret from the metadata file.
#include "firstboot/render/render_cli.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "support/firstboot/image_charts_fixture.hpp"

using binder::firstboot::render::render_main;

namespace {

// Runs render_main with stdout captured.
int run(const std::vector<std::string>& args, std::string& out) {
  std::string path = "/tmp/binder-render-cli-" + std::to_string(getpid()) + ".out";
  fflush(stdout);
  int saved = dup(1);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(fd, 1);
  close(fd);
  int rc = render_main(args);
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  std::remove(path.c_str());
  return rc;
}

std::string metadata_file() {
  std::string path = "/tmp/binder-render-cli-" + std::to_string(getpid()) + ".yaml";
  std::ofstream(path) << R"(binder_member:
  name: example
  domain: mybinder.org
  mode: federation
  dns: {provider: cloudflare, zone: mybinder.org, api_token: cf-SECRET-token}
  tls: {email: ops@example.org}
  registry:
    host: registry.example.mybinder.org
    s3: {endpoint: "https://s3.example.org", region: r, bucket: b, access_key: AK-SECRET, secret_key: SK-SECRET}
)";
  return path;
}

}  // namespace

TEST_CASE("render verb: usage errors exit 2, --list lists the artifacts", "[render][cli]") {
  std::string out;
  CHECK(run({}, out) == 2);
  CHECK(run({"values-binderhub"}, out) == 2);
  CHECK(run({"values-binderhub", "--metadata"}, out) == 2);
  CHECK(run({"x", "--metadata", "f", "--ram-gib", "lots"}, out) == 2);
  CHECK(run({"--list"}, out) == 0);
  CHECK(out.find("helmchart-binderhub\n") != std::string::npos);
  CHECK(out.find("mybinder-secrets\n") != std::string::npos);
}

TEST_CASE("render verb: prints an artifact with placeholders instead of the metadata's secrets",
          "[render][cli]") {
  auto md = metadata_file();
  std::string out;
  REQUIRE(run({"all", "--metadata", md, "--ram-gib", "64", "--cpus", "16", "--public-ip", "198.51.100.3",
               "--extra-disk"},
              out) == 0);
  CHECK(out.find("SECRET") == std::string::npos);
  CHECK(out.find("<secret:s3-secret-key>") != std::string::npos);
  CHECK(out.find("hostLibDir: /mnt/disk/dind") != std::string::npos);
  CHECK(out.find("198.51.100.3") != std::string::npos);
  CHECK(run({"helmchart-harbour", "--metadata", md}, out) == 2);
  CHECK(run({"sizing", "--metadata", "/nonexistent/member.yaml"}, out) != 0);
  std::remove(md.c_str());
}

TEST_CASE("render verb: sizing takes --extra-disk-gib, bad sizes exit 2", "[render][cli][sizing]") {
  auto md = metadata_file();
  std::string out;
  REQUIRE(run({"sizing", "--metadata", md, "--ram-gib", "92", "--cpus", "24", "--extra-disk-gib", "300"},
              out) == 0);
  auto j = nlohmann::json::parse(out);
  CHECK(j["machine"]["extra_disk_gib"] == 300);
  bool found = false;
  for (const auto& r : j["rules"]) {
    if (r["name"] == "buildkitPruner.buildkitCacheSize") {
      CHECK(r["value"] == "150GB");
      found = true;
    }
  }
  CHECK(found);
  for (const char* bad : {"0", "-5", "lots", "12x", "nan", "inf", "2000000"}) {
    INFO(bad);
    CHECK(run({"sizing", "--metadata", md, "--extra-disk-gib", bad}, out) == 2);
  }
  CHECK(run({"sizing", "--metadata", md, "--extra-disk-gib"}, out) == 2);
  REQUIRE(run({"sizing", "--markdown-table"}, out) == 0);
  CHECK(out.starts_with("| Setting | 8 GiB / 2 CPU / no disk |"));
  CHECK(run({"values-binderhub", "--markdown-table"}, out) == 2);
  std::remove(md.c_str());
}

TEST_CASE("render verb: a federation member shows exactly two HelmCharts, from the image with --image-root",
          "[render][cli][release]") {
  auto md = metadata_file();
  std::string out;
  auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size())
      ++n;
    return n;
  };
  REQUIRE(run({"all", "--metadata", md}, out) == 0);
  CHECK(count(out, "\nkind: HelmChart\n") == 2);
  CHECK(out.find("/static/charts/mybinder-") != std::string::npos);

  auto root = *binder::common::fs::TempDir::create("render-cli-image");
  auto manifest = binder::firstboot::render::fixtures::write_image_charts(root.path());
  REQUIRE(run({"helmchart-mybinder", "--metadata", md, "--image-root", root.path().string()}, out) == 0);
  CHECK(out.find(binder::firstboot::render::fixtures::k_fixture_mybinder_version) != std::string::npos);
  // A corrupt archive: an error naming the manifest key, nothing printed.
  REQUIRE(binder::common::fs::write_file_atomic(
      root.path() / std::filesystem::path(manifest["mybinder"]["file"].get<std::string>()).relative_path(),
      "x", 0644));
  CHECK(run({"all", "--metadata", md, "--image-root", root.path().string()}, out) != 0);
  CHECK(out.empty());
  std::remove(md.c_str());
}
