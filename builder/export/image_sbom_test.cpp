// The image's SBOM assembly: os-release naming the distribution, the build date as created
// time, charts.json as extra packages (a malformed one is an error, not an exception).
#include "export/image_sbom.hpp"

#include <catch2/catch.hpp>

#include "export/os_release.hpp"

using namespace binder::exporter;

namespace {

const char* k_image_status =
    "Package: bash\nStatus: install ok installed\nVersion: 5.2.21-2ubuntu4\nArchitecture: amd64\n\n";

}  // namespace

TEST_CASE("os-release: values with and without quotes, the first assignment wins, absent is empty") {
  const char* text = "NAME=\"Ubuntu\"\nVERSION_ID='24.04'\nID=ubuntu\nID=debian\n# ID_LIKE=x\n";
  CHECK(os_release_value(text, "NAME") == "Ubuntu");
  CHECK(os_release_value(text, "VERSION_ID") == "24.04");
  CHECK(os_release_value(text, "ID") == "ubuntu");
  CHECK(os_release_value(text, "ID_LIKE") == "");
  CHECK(os_release_value("VERSION=\"x\n", "VERSION") == "\"x");
}

TEST_CASE("image sbom: named after the profile, distro from os-release, created at the build date") {
  ImageSbomInputs in;
  in.profile_name = "ovh";
  in.dpkg_status = k_image_status;
  in.os_release = "ID=ubuntu\nVERSION_ID=\"24.04\"\n";
  in.created_epoch = 0;
  auto text = image_sbom(in);
  REQUIRE(text);
  auto doc = nlohmann::json::parse(*text);
  CHECK(doc["name"] == "binder-image-ovh");
  CHECK(doc["creationInfo"]["created"] == "1970-01-01T00:00:00Z");
  CHECK(doc["packages"][0]["externalRefs"][0]["referenceLocator"].get<std::string>().find(
            "distro=ubuntu-24.04") != std::string::npos);
  in.os_release.reset();
  in.created_epoch = 1700000000;
  auto plain = image_sbom(in);
  REQUIRE(plain);
  auto d2 = nlohmann::json::parse(*plain);
  CHECK(d2["creationInfo"]["created"] == "2023-11-14T22:13:20Z");
  CHECK(d2["packages"][0]["externalRefs"][0]["referenceLocator"].get<std::string>().starts_with(
      "pkg:deb/debian/"));
}

TEST_CASE("image sbom: a charts.json without its fields is an error naming it") {
  ImageSbomInputs in;
  in.profile_name = "x";
  in.dpkg_status = k_image_status;
  in.charts_json = nlohmann::json{{"mybinder", nlohmann::json::object()}};
  auto r = image_sbom(in);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("charts.json") != std::string::npos);
}
