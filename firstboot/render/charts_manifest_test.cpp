// The image charts manifest reader: shape, sha256 checks, errors naming the key.
#include "firstboot/render/charts_manifest.hpp"

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "support/firstboot/image_charts_fixture.hpp"

using namespace binder::firstboot::render;
namespace fs = binder::common::fs;
using binder::common::Errc;
using nlohmann::json;

namespace {

void write_manifest(const std::filesystem::path& root, const json& m) {
  REQUIRE(fs::write_file_atomic(root / "etc/binder-image/charts.json", m.dump(), 0644));
}

}  // namespace

TEST_CASE("charts manifest: the image's charts load with their sha256 checked", "[render][charts-manifest]") {
  auto root = *fs::TempDir::create("charts-manifest");
  fixtures::write_image_charts(root.path());
  auto charts = load_image_charts(root.path());
  INFO((charts ? "ok" : charts.error().to_string()));
  REQUIRE(charts);
  CHECK(charts->manifest.mybinder.version == fixtures::k_fixture_mybinder_version);
  CHECK(charts->manifest.cert_manager.version == "v1.20.2");
  CHECK(charts->manifest.source_commit == "95860dbcba2031b930020dbd856e76cd37ba34c8");
  CHECK(charts->cert_manager_values["ingressShim"]["defaultIssuerName"] == "letsencrypt-prod");
  CHECK(charts->cert_manager_values_text == fixtures::fixture_cert_manager_values());
  CHECK(static_chart_url(charts->manifest.mybinder) ==
        std::string("https://%{KUBERNETES_API}%/static/charts/mybinder-") +
            fixtures::k_fixture_mybinder_version + ".tgz");
  auto docs = yaml_documents(charts->cert_manager_crds, "crds");
  REQUIRE(docs);
  REQUIRE(docs->size() == 1);
  CHECK((*docs)[0]["kind"] == "CustomResourceDefinition");
}

TEST_CASE("charts manifest: a missing key, a wrong digest or a missing file is an error naming it",
          "[render][charts-manifest]") {
  auto root = *fs::TempDir::create("charts-manifest");
  json good = fixtures::write_image_charts(root.path());

  SECTION("missing required key") {
    json m = good;
    m["cert_manager"].erase("crds_sha256");
    write_manifest(root.path(), m);
    auto r = load_image_charts(root.path());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid_config);
    CHECK_THAT(r.error().message, Catch::Contains("'cert_manager.crds_sha256'"));
  }
  SECTION("unknown schema") {
    json m = good;
    m["schema"] = 2;
    write_manifest(root.path(), m);
    auto r = load_image_charts(root.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("'schema'"));
  }
  SECTION("digest mismatch") {
    json m = good;
    m["mybinder"]["sha256"] = std::string(64, '0');
    write_manifest(root.path(), m);
    auto r = load_image_charts(root.path());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::checksum);
    CHECK_THAT(r.error().message, Catch::Contains("'mybinder.file'"));
  }
  SECTION("archive missing") {
    std::filesystem::remove(
        root.path() / std::filesystem::path(good["cert_manager"]["file"].get<std::string>()).relative_path());
    auto r = load_image_charts(root.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("'cert_manager.file'"));
  }
  SECTION("no manifest at all") {
    std::filesystem::remove(root.path() / "etc/binder-image/charts.json");
    auto r = load_image_charts(root.path());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("/etc/binder-image/charts.json"));
  }
}

TEST_CASE("charts manifest: the pinned defaults name the image's paths", "[render][charts-manifest]") {
  auto pinned = pinned_image_charts();
  CHECK(static_chart_url(pinned.manifest.cert_manager) ==
        "https://%{KUBERNETES_API}%/static/charts/cert-manager-v1.20.2.tgz");
  CHECK(pinned.cert_manager_values["ingressShim"]["defaultIssuerKind"] == "ClusterIssuer");
}
