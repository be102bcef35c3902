// Chart resolution against the fake chart repositories and OCI registry (tests/support/fakes/
// chart_repo.py, TLS on 127.0.0.1) and a whole bake from file:// fixture mirrors; the fixtures come
// from tests/support/charts/make_chart_fixtures.py.
#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "charts/bake.hpp"
#include "charts/chartpress.hpp"
#include "charts/package.hpp"
#include "charts/tgz.hpp"
#include "common/fs.hpp"
#include "common/hash.hpp"
#include "support/fake_server.hpp"
#include "support/test_ca.hpp"

using namespace binder::charts;
namespace cfs = binder::common::fs;
using binder::common::Errc;

namespace {

constexpr const char* k_resolve_commit = "95860dbcba2031b930020dbd856e76cd37ba34c8";

struct Fixtures {
  cfs::TempDir dir = cfs::TempDir::create("chart-fixtures").value();
  Fixtures() {
    std::string out;
    int rc = binder::test::run_capture(
        {BINDER_PYTHON, std::string(BINDER_TESTS_DIR) + "/support/charts/make_chart_fixtures.py",
         dir.path().string(), "--shared", BINDER_SHARED_DIR},
        &out);
    REQUIRE(rc == 0);
  }
  std::string repos() const { return dir.path().string() + "/repos/"; }
};

ChartsOptions options(const std::string& source_url) {
  ChartsOptions o;
  o.url = source_url;
  o.commit = k_resolve_commit;
  o.version = "2020.12.4-0.dev.git.7587.h95860dbc";
  o.images = {
      {"analyticsPublisher.image",
       "jupyterhub/mybinder.org-analytics-publisher:2020.12.4-0.dev.git.7555.h6861e7c6"},
      {"federationRedirect.image",
       "jupyterhub/mybinder.org-federation-redirect:2020.12.4-0.dev.git.7509.hd2b6c859"},
      {"minesweeper.image", "jupyterhub/mybinder.org-minesweeper:2020.12.4-0.dev.git.7555.h6861e7c6"},
      {"podLogs.image", "jupyterhub/mybinder.org-rsyslog:2020.12.4-0.dev.git.7045.h5ec9683d"},
      {"binderhub.jupyterhub.singleuser.initContainers.0.image",
       "jupyterhub/mybinder.org-tc-init:2020.12.4-0.dev.git.7045.h5ec9683d"},
  };
  o.mtime = 1700000000;
  return o;
}

struct Fake {
  binder::test::TestPki pki = binder::test::TestPki::create();
  Fixtures fx;
  binder::test::FakeServer server;
  cfs::TempDir cache = cfs::TempDir::create("chart-cache").value();
  Fake()
      : server(binder::test::FakeKind::charts, pki,
               binder::test::FakeOptions{"127.0.0.1", 0, {}, {"--charts-dir", fx.dir.path().string()}}) {}
  Downloader downloader() {
    binder::common::http::Options o;
    o.ca_file = pki.ca_cert();
    o.max_attempts = 2;
    o.backoff_base = std::chrono::milliseconds(10);
    return Downloader(binder::base::CacheDir{cache.path()}, o);
  }
  Mirrors mirrors() const {
    std::string port = std::to_string(server.port());
    return {{"https://", "https://127.0.0.1:" + port + "/repos/"},
            {"oci://", "oci://127.0.0.1:" + port + "/"}};
  }
};

}  // namespace

TEST_CASE("an HTTP chart repository: index.yaml, relative URL, digest checked, cached") {
  Fake f;
  auto dl = f.downloader();
  ChartRef ref{"harbor", "1.18.1", "https://helm.goharbor.io", false};
  auto r = resolve_chart(ref, f.mirrors(), dl);
  INFO((r ? std::string() : r.error().to_string()));
  REQUIRE(r);
  CHECK(r->digest == "sha256:" + binder::common::hash::sha256_hex(r->bytes));
  CHECK(r->url.ends_with("/repos/helm.goharbor.io/harbor-1.18.1.tgz"));
  auto files = read_tgz(r->bytes, "harbor").value();
  CHECK(files.front().path.starts_with("harbor/"));
  CHECK(!r->cached);
  auto again = resolve_chart(ref, f.mirrors(), dl);
  REQUIRE(again);
  CHECK(again->cached);
  CHECK(f.server.violations().empty());
}

TEST_CASE("an OCI registry: anonymous bearer token, manifest, helm layer blob verified") {
  Fake f;
  auto dl = f.downloader();
  ChartRef ref{"traefik", "41.1.1", "oci://ghcr.io/traefik/helm", false};
  auto r = resolve_chart(ref, f.mirrors(), dl);
  REQUIRE(r);
  CHECK(r->url.find("/v2/ghcr.io/traefik/helm/traefik/blobs/sha256:") != std::string::npos);
  CHECK(r->digest == "sha256:" + binder::common::hash::sha256_hex(r->bytes));
  bool schema = false;
  auto traefik_files = read_tgz(r->bytes, "traefik").value();
  for (const auto& file : traefik_files) {
    schema = schema || file.path == "traefik/values.schema.json";
  }
  CHECK(schema);
  // The token dance happened: a 401 first, then a token, then authorized requests.
  auto reqs = f.server.requests();
  bool unauthorized = false, token = false;
  for (const auto& q : reqs) {
    unauthorized = unauthorized || q["status"] == 401;
    token = token || q["path"].get<std::string>().starts_with("/token?");
  }
  CHECK(unauthorized);
  CHECK(token);
  CHECK(f.server.violations().empty());

  SECTION("a full chart reference (cert-manager)") {
    ChartRef cm{"cert-manager", "v1.20.2", "oci://quay.io/jetstack/charts/cert-manager", true};
    auto c = resolve_chart(cm, f.mirrors(), dl);
    REQUIRE(c);
    CHECK(c->url.find("/v2/quay.io/jetstack/charts/cert-manager/blobs/") != std::string::npos);
  }
}

TEST_CASE("a digest mismatch is a checksum error naming chart, version and URL, nothing cached") {
  Fake f;
  auto dl = f.downloader();
  f.server.configure({{"corrupt", "\\.tgz$|/blobs/"}});
  for (const ChartRef& ref : {ChartRef{"harbor", "1.18.1", "https://helm.goharbor.io", false},
                              ChartRef{"traefik", "41.1.1", "oci://ghcr.io/traefik/helm", false}}) {
    auto r = resolve_chart(ref, f.mirrors(), dl);
    REQUIRE(!r);
    INFO(r.error().to_string());
    CHECK(r.error().code == Errc::checksum);
    CHECK(r.error().message.find("chart '" + ref.name + "' version '" + ref.version + "'") !=
          std::string::npos);
    CHECK(r.error().message.find("127.0.0.1") != std::string::npos);
  }
  // No verified entry, no partial file left for a download that failed verification.
  std::size_t entries = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(f.cache.path() / "downloads", ec);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file() && it->path().extension() != ".lock") {
      ++entries;
      INFO(it->path());
      CHECK(false);
    }
  }
  CHECK(entries == 0);
}

TEST_CASE("an unknown version is a config error listing what the repository has") {
  Fake f;
  auto dl = f.downloader();
  auto r = resolve_chart({"harbor", "9.9.9", "https://helm.goharbor.io", false}, f.mirrors(), dl);
  REQUIRE(!r);
  CHECK(r.error().code == Errc::invalid_config);
  CHECK(r.error().message.find("unknown version") != std::string::npos);
  CHECK(r.error().message.find("1.18.1") != std::string::npos);
  auto o = resolve_chart({"traefik", "0.0.1", "oci://ghcr.io/traefik/helm", false}, f.mirrors(), dl);
  REQUIRE(!o);
  CHECK(o.error().code == Errc::invalid_config);
  CHECK(o.error().message.find("chart 'traefik' version '0.0.1'") != std::string::npos);
}

TEST_CASE("an unreachable repository is a network error naming chart, version and URL") {
  binder::common::http::Options http;
  http.max_attempts = 1;
  http.connect_timeout = std::chrono::milliseconds(2000);
  auto cache = cfs::TempDir::create("chart-cache").value();
  Downloader dl(binder::base::CacheDir{cache.path()}, http);
  Mirrors m{{"https://", "http://127.0.0.1:1/"}, {"oci://", "oci+http://127.0.0.1:1/"}};
  for (const ChartRef& ref : {ChartRef{"grafana", "10.5.15", "https://grafana.github.io/helm-charts", false},
                              ChartRef{"traefik", "41.1.1", "oci://ghcr.io/traefik/helm", false}}) {
    auto r = resolve_chart(ref, m, dl);
    REQUIRE(!r);
    CHECK(r.error().code == Errc::network);
    CHECK(r.error().message.find("chart '" + ref.name + "' version '" + ref.version + "' from 'http") !=
          std::string::npos);
    CHECK(r.error().message.find("127.0.0.1:1") != std::string::npos);
  }
}

TEST_CASE("bake from file:// fixture mirrors: the contract's files and charts.json") {
  Fixtures fx;
  auto cache = cfs::TempDir::create("chart-cache").value();
  Downloader dl(binder::base::CacheDir{cache.path()});
  auto o = options("file://" + fx.dir.path().string() + "/source/mybinder.org-deploy-" + k_resolve_commit +
                   ".tar.gz");
  o.mirrors = {{"https://", "file://" + fx.repos()}, {"oci://", "file://" + fx.repos()}};

  SECTION("unpinned source: commit id checked, sha256 computed and warned about") {
    auto b = bake_charts(o, dl);
    REQUIRE(b);
    const auto& j = b->charts_json;
    CHECK(j["schema"] == 1);
    CHECK(j["mybinder"]["source"]["sha256"] ==
          "46f646c6b0ea59225b57397868cad93ebe86f79f2e2319b717f76225f012136f");
    CHECK(j["mybinder"]["dependencies"].size() == 10);
    CHECK(j["mybinder"]["excluded_files"] == nlohmann::json::array({"files/minesweeper/secrets/herorat.py"}));
    CHECK(j["mybinder"]["file"] ==
          "/var/lib/rancher/k3s/server/static/charts/mybinder-2020.12.4-0.dev.git.7587.h95860dbc.tgz");
    CHECK(j["cert_manager"]["version"] == "v1.20.2");
    CHECK(j["cert_manager"]["crds_file"] ==
          "/var/lib/rancher/k3s/server/static/charts/cert-manager-v1.20.2.crds.yaml");
    CHECK(j["files_dir"] == "/usr/share/binder-image/mybinder");
    CHECK(b->warnings.size() == 2);
    std::map<std::string, std::string> files;
    for (const auto& f : b->files)
      files[f.path] = f.data;
    CHECK(files.size() == 7);
    CHECK(files.contains("/usr/share/binder-image/mybinder/config/cert-manager.yaml"));
    CHECK(files.contains("/usr/share/binder-image/mybinder/cert-manager.env"));
    CHECK(files.contains("/etc/binder-image/charts.json"));
    const auto& tgz = files.at(j["mybinder"]["file"].get<std::string>());
    CHECK(j["mybinder"]["sha256"] == binder::common::hash::sha256_hex(tgz));
    CHECK(j["cert_manager"]["sha256"] ==
          binder::common::hash::sha256_hex(files.at(j["cert_manager"]["file"].get<std::string>())));
    int deps = 0;
    auto packaged = read_tgz(tgz, "mybinder").value();
    for (const auto& f : packaged) {
      deps += f.path.starts_with("mybinder/charts/") ? 1 : 0;
      CHECK(!has_chartpress_placeholder(f.data));
      CHECK(!is_git_crypt(f.data));
    }
    CHECK(deps == 10);
    // Deterministic: a second bake (from the cache) gives the same bytes.
    auto again = bake_charts(o, dl);
    REQUIRE(again);
    CHECK(again->files.size() == b->files.size());
    for (std::size_t i = 0; i < b->files.size(); ++i) {
      CHECK(again->files[i].data == b->files[i].data);
    }
  }
  SECTION("a pinned sha256 that does not match is a checksum error") {
    o.sha256 = std::string(64, 'a');
    auto b = bake_charts(o, dl);
    REQUIRE(!b);
    CHECK(b.error().code == Errc::checksum);
  }
  SECTION("the wrong commit is refused") {
    o.commit = std::string(40, 'b');
    auto b = bake_charts(o, dl);
    REQUIRE(!b);
    CHECK(b.error().code == Errc::checksum);
    CHECK(b.error().to_string().find(k_resolve_commit) != std::string::npos);
  }
}
