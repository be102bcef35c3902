// Chart packaging pieces, offline: archives, chartpress pins, packaging rules, against the
// mybinder.org-deploy mirror archive in ../shared/reference/mirror.
#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "charts/bake.hpp"
#include "charts/chartpress.hpp"
#include "charts/package.hpp"
#include "charts/tgz.hpp"
#include "common/fs.hpp"

using namespace binder::charts;
namespace fs = binder::common::fs;

namespace {

constexpr const char* k_commit = "95860dbcba2031b930020dbd856e76cd37ba34c8";

std::string mirror_path() {
  return std::string(BINDER_SHARED_DIR) + "/reference/mirror/mybinder.org-deploy-" + k_commit + ".tar.gz";
}

std::string mirror_bytes() { return fs::read_file(mirror_path()).value(); }

// The five pins of reference/mirror/README.md facts (d).
std::map<std::string, std::string> pins() {
  return {
      {"analyticsPublisher.image",
       "jupyterhub/mybinder.org-analytics-publisher:2020.12.4-0.dev.git.7555.h6861e7c6"},
      {"federationRedirect.image",
       "jupyterhub/mybinder.org-federation-redirect:2020.12.4-0.dev.git.7509.hd2b6c859"},
      {"minesweeper.image", "jupyterhub/mybinder.org-minesweeper:2020.12.4-0.dev.git.7555.h6861e7c6"},
      {"podLogs.image", "jupyterhub/mybinder.org-rsyslog:2020.12.4-0.dev.git.7045.h5ec9683d"},
      {"binderhub.jupyterhub.singleuser.initContainers.0.image",
       "jupyterhub/mybinder.org-tc-init:2020.12.4-0.dev.git.7045.h5ec9683d"},
  };
}

std::vector<ArchiveFile> chart_files() {
  auto files = read_tgz(mirror_bytes(), "mirror").value();
  std::vector<ArchiveFile> chart;
  std::string prefix = std::string("mybinder.org-deploy-") + k_commit + "/mybinder/";
  for (auto& f : files) {
    if (f.path.starts_with(prefix)) {
      chart.push_back({f.path.substr(prefix.size()), f.data, f.mode});
    }
  }
  return chart;
}

std::string file_of(const std::vector<ArchiveFile>& files, const std::string& path) {
  for (const auto& f : files) {
    if (f.path == path)
      return f.data;
  }
  FAIL("no " << path);
  return {};
}

}  // namespace

TEST_CASE("the mirror archive's pax header names its commit, as git get-tar-commit-id reads it") {
  CHECK(tar_commit_id(mirror_bytes(), "mirror").value() == k_commit);
  auto plain = write_tgz({{"a/b", "x", 0644}}, 0).value();
  CHECK(tar_commit_id(plain, "plain").value().empty());
  CHECK(tar_commit_id("not gzip at all", "junk").value_or("x").empty());
}

namespace {

// One ustar header (checksum filled in) for `name` declaring `size_octal` bytes of data.
std::string ustar_header(const std::string& name, const std::string& size_octal, char type = '0') {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  h.replace(100, 7, "0000644");
  h.replace(108, 7, "0000000");
  h.replace(116, 7, "0000000");
  h.replace(124, size_octal.size(), size_octal);
  h.replace(136, 11, "00000000000");
  h[156] = type;
  h.replace(257, 6, std::string("ustar\0", 6));
  h.replace(263, 2, "00");
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (unsigned char c : h)
    sum += c;
  auto chk = fmt::format("{:06o}", sum);
  h.replace(148, 6, chk);
  h[154] = '\0';
  return h;
}

}  // namespace

TEST_CASE(
    "read_tgz: an entry whose header claims more data than the archive holds is an error, not an allocation") {
  // 8 GiB - 1 declared, 5 bytes present: the reader must not reserve the claimed size
  // (it used to resize to it, value-initialising gigabytes before reading).
  std::string tar = ustar_header("chart/values.yaml", "77777777777") + "a: 1\n" + std::string(507, '\0');
  auto r = read_tgz(tar, "hostile");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().to_string(), Catch::Contains("truncated entry 'chart/values.yaml'") &&
                                        Catch::Contains("of 8589934591 bytes"));
  // A declared size that matches still reads.
  std::string ok = ustar_header("chart/values.yaml", "00000000005") + "a: 1\n" + std::string(507, '\0') +
                   std::string(1024, '\0');
  auto files = read_tgz(ok, "plain").value();
  REQUIRE(files.size() == 1);
  CHECK(files[0].data == "a: 1\n");
}

TEST_CASE("tar_commit_id: malformed pax records are no commit id") {
  auto pax = [](const std::string& records) {
    std::string body = records + std::string(512 - records.size(), '\0');
    return ustar_header("pax_global_header", fmt::format("{:011o}", records.size()), 'g') + body +
           std::string(1024, '\0');
  };
  const std::string id(40, 'a');
  CHECK(tar_commit_id(pax("52 comment=" + id + "\n"), "good").value() == id);
  // A length shorter than its own "<len> " prefix, zero, or absurdly long: no id, no crash.
  CHECK(tar_commit_id(pax("2 comment=" + id + "\n"), "short").value().empty());
  CHECK(tar_commit_id(pax("0 comment=" + id + "\n"), "zero").value().empty());
  CHECK(tar_commit_id(pax("99999999999999999999999 comment=" + id + "\n"), "long").value().empty());
}

TEST_CASE("write_tgz is deterministic, sorted and keeps modes") {
  auto a = write_tgz({{"m/z", "1", 0644}, {"m/a", "2", 0755}}, 1700000000).value();
  auto b = write_tgz({{"m/a", "2", 0755}, {"m/z", "1", 0644}}, 1700000000).value();
  CHECK(a == b);
  auto back = read_tgz(a, "t").value();
  REQUIRE(back.size() == 2);
  CHECK(back[0].path == "m/a");
  CHECK(back[0].mode == 0755);
  CHECK(back[1].data == "1");
  CHECK(!write_tgz({{"x", "1", 0644}, {"x", "2", 0644}}, 0));
  // gzip header: magic, and no timestamp (bytes 4..7 zero), so the bytes do not depend on when.
  REQUIRE(a.size() > 10);
  CHECK(static_cast<unsigned char>(a[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(a[1]) == 0x8b);
  CHECK(a.substr(4, 4) == std::string(4, '\0'));
}

TEST_CASE("chartpress pins replace all five image placeholders in mybinder's values.yaml") {
  auto values = file_of(chart_files(), "values.yaml");
  auto pinned = pin_values_images(values, "mybinder/values.yaml", pins());
  REQUIRE(pinned);
  CHECK(!has_chartpress_placeholder(*pinned));
  CHECK(pinned->find("image: jupyterhub/mybinder.org-tc-init:2020.12.4-0.dev.git.7045.h5ec9683d") !=
        std::string::npos);
  CHECK(pinned->find("tag: \"2020.12.4-0.dev.git.7509.hd2b6c859\"") != std::string::npos);
  CHECK(pinned->find("image: jupyterhub/mybinder.org-minesweeper:2020.12.4-0.dev.git.7555.h6861e7c6") !=
        std::string::npos);
  // Only the placeholders changed.
  CHECK(pinned->size() - values.size() ==
        (std::string("2020.12.4-0.dev.git.7555.h6861e7c6").size() - 17) * 2 +
            (std::string("2020.12.4-0.dev.git.7509.hd2b6c859").size() - 17) +
            (std::string("2020.12.4-0.dev.git.7045.h5ec9683d").size() - 17) * 2);

  SECTION("a placeholder without a pin names file, line and path") {
    auto p = pins();
    p.erase("podLogs.image");
    auto r = pin_values_images(values, "mybinder/values.yaml", p);
    REQUIRE(!r);
    CHECK(r.error().code == binder::common::Errc::invalid_config);
    CHECK(r.error().message.find("mybinder/values.yaml:792") != std::string::npos);
    CHECK(r.error().message.find("podLogs.image") != std::string::npos);
  }
  SECTION("a pin for another repository is refused") {
    auto p = pins();
    p["analyticsPublisher.image"] = "example/other:1.0";
    auto r = pin_values_images(values, "mybinder/values.yaml", p);
    REQUIRE(!r);
    CHECK(r.error().message.find("example/other") != std::string::npos);
  }
  SECTION("a pin at a path with no placeholder is refused") {
    auto p = pins();
    p["nothing.here"] = "a/b:1";
    auto r = pin_values_images(values, "mybinder/values.yaml", p);
    REQUIRE(!r);
    CHECK(r.error().message.find("nothing.here") != std::string::npos);
  }
}

TEST_CASE("chartpress pins the chart version") {
  auto chart = file_of(chart_files(), "Chart.yaml");
  auto r = pin_chart_version(chart, "mybinder/Chart.yaml", "2020.12.4-0.dev.git.7587.h95860dbc");
  REQUIRE(r);
  CHECK(r->find("version: \"2020.12.4-0.dev.git.7587.h95860dbc\"\n") != std::string::npos);
  CHECK(!has_chartpress_placeholder(*r));
  CHECK(r->find("name: binderhub") != std::string::npos);
}

TEST_CASE("helmignore rules") {
  HelmIgnore ig("# c\n.git/\n*.swp\n*~\ntemplates/skip.yaml\n!keep.swp\n");
  CHECK(ig.ignored(".git/config"));
  CHECK(ig.ignored("files/a.swp"));
  CHECK(!ig.ignored("keep.swp"));
  CHECK(ig.ignored("x~"));
  CHECK(ig.ignored("templates/skip.yaml"));
  CHECK(!ig.ignored("templates/other.yaml"));
  CHECK(!ig.ignored("files/.gitkeep"));
}

TEST_CASE("UTF-8 and git-crypt detection") {
  CHECK(is_utf8("plain ascii"));
  CHECK(is_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  CHECK(!is_utf8("\xc3"));
  CHECK(!is_utf8("\xc0\xaf"));      // overlong
  CHECK(!is_utf8("\xed\xa0\x80"));  // surrogate
  CHECK(!is_utf8(std::string("\0GITCRYPT\0\x9a\xff", 12)));
  CHECK(is_git_crypt(std::string("\0GITCRYPT\0abc", 13)));
  CHECK(!is_git_crypt("GITCRYPT"));
}

TEST_CASE("packaging the mirror chart: ciphertext out, pins in, files/ UTF-8, charts/ filled") {
  PackageInput in;
  in.files = chart_files();
  in.version = "2020.12.4-0.dev.git.7587.h95860dbc";
  in.images = pins();
  in.mtime = 1700000000;
  ResolvedChart dep;
  dep.ref = {"traefik", "41.1.1", "oci://ghcr.io/traefik/helm", false};
  dep.bytes = write_tgz({{"traefik/Chart.yaml", "name: traefik\nversion: 41.1.1\n", 0644}}, 0).value();
  in.dependencies.push_back(dep);
  auto p = package_chart(in);
  REQUIRE(p);
  CHECK(p->file_name == "mybinder-2020.12.4-0.dev.git.7587.h95860dbc.tgz");
  CHECK(p->excluded_files == std::vector<std::string>{"files/minesweeper/secrets/herorat.py"});
  auto files = read_tgz(p->tgz, "packaged").value();
  bool have_dep = false;
  for (const auto& f : files) {
    INFO(f.path);
    CHECK(f.path.starts_with("mybinder/"));
    CHECK(f.data.find(std::string("\0GITCRYPT\0", 10)) == std::string::npos);
    CHECK(!has_chartpress_placeholder(f.data));
    CHECK(f.path != "mybinder/files/minesweeper/secrets/herorat.py");
    if (f.path.starts_with("mybinder/files/")) {
      CHECK(is_utf8(f.data));
    }
    have_dep = have_dep || (f.path == "mybinder/charts/traefik-41.1.1.tgz" && f.data == dep.bytes);
  }
  CHECK(have_dep);
  CHECK(file_of(files, "mybinder/templates/minesweeper/configmap.yaml").size() > 0);
  // Deterministic.
  CHECK(package_chart(in)->tgz == p->tgz);

  SECTION("a non-UTF-8 file under files/ is an error naming it") {
    in.files.push_back({"files/static/bad.txt", "\xff\xfe", 0644});
    auto r = package_chart(in);
    REQUIRE(!r);
    CHECK(r.error().message.find("mybinder/files/static/bad.txt") != std::string::npos);
  }
  SECTION("a leftover placeholder anywhere is an error naming the file") {
    in.files.push_back({"templates/extra.yaml", "image: x:set-by-chartpress\n", 0644});
    auto r = package_chart(in);
    REQUIRE(!r);
    CHECK(r.error().message.find("mybinder/templates/extra.yaml") != std::string::npos);
  }
}

TEST_CASE("cert-manager.env values") {
  CHECK(env_value("# c\nexport CERT_MANAGER_VERSION=v1.20.2\n", "CERT_MANAGER_VERSION") == "v1.20.2");
  CHECK(env_value("CERT_MANAGER_VERSION=\"v1.2.3\"", "CERT_MANAGER_VERSION") == "v1.2.3");
  CHECK(env_value("OTHER=1\n", "CERT_MANAGER_VERSION").empty());
}

TEST_CASE("read_tgz: a gzip stream cut after the first entry is an error, not an abort (fuzz_tar)") {
  // libarchive fails the next header with no error string (NULL); passing that to fmt threw
  // fmt::format_error out of read_tgz. Input: tests/fuzz/regressions/tar/ (found by fuzz_tar).
  auto bytes = fs::read_file(std::string(BINDER_SOURCE_DIR) +
                             "/tests/fuzz/regressions/tar/truncated-gzip-null-error.tgz");
  REQUIRE(bytes);
  auto r = read_tgz(*bytes, "cut");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().to_string(), Catch::Contains("cut: not a gzip tar: unknown libarchive error"));
  CHECK(tar_commit_id(*bytes, "cut").has_value());
}
