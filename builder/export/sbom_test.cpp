// SBOM from dpkg status: real stanzas (copied from a Debian 12 system's /var/lib/dpkg/status),
// the live status file of this machine when present, determinism and SPDX shape.
#include "export/sbom.hpp"

#include <cstdlib>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "support/skip.hpp"

using namespace binder::exporter;

namespace {

const char* k_status = R"(Package: bash
Essential: yes
Status: install ok installed
Priority: required
Section: shells
Installed-Size: 7164
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Multi-Arch: foreign
Source: bash (5.2.15-2)
Version: 5.2.15-2+b8
Replaces: bash-completion (<< 20060301-0), bash-doc (<= 2.05-1)
Depends: base-files (>= 2.1.12), debianutils (>= 5.6-0.1)
Conffiles:
 /etc/bash.bashrc 89269e1298235f1b12b4c16e4065ad0d
 /etc/skel/.bashrc 7ffa7d6b8a2a7e0a7e0ff8e1d0ff6e13
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter that executes
 commands read from the standard input or from a file.
Homepage: http://tiswww.case.edu/php/chet/bash/bashtop.html

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u10
Description: GNU C Library: Shared libraries

Package: libc6
Status: install ok installed
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: i386
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u10
Description: GNU C Library: Shared libraries

Package: oldpkg
Status: deinstall ok config-files
Architecture: all
Version: 1.0
Description: removed, only its config left

Package: apt
Status: hold ok installed
Maintainer: APT Development Team <deity@lists.debian.org>
Architecture: amd64
Version: 1:2.6.1
Description: commandline package manager
)";

nlohmann::json parse(const std::string& s) { return nlohmann::json::parse(s); }

}  // namespace

TEST_CASE("sbom: dpkg status keeps installed packages only, sorted, with source names") {
  auto pkgs = parse_dpkg_status(k_status);
  REQUIRE(pkgs);
  REQUIRE(pkgs->size() == 4);
  CHECK((*pkgs)[0].name == "apt");
  CHECK((*pkgs)[1].name == "bash");
  CHECK((*pkgs)[1].source == "bash");
  CHECK((*pkgs)[1].homepage == "http://tiswww.case.edu/php/chet/bash/bashtop.html");
  CHECK((*pkgs)[2].architecture == "amd64");
  CHECK((*pkgs)[3].architecture == "i386");
  CHECK((*pkgs)[3].source == "glibc");
}

TEST_CASE("sbom: purls percent-encode epochs and plus signs") {
  DpkgPackage p{"apt", "1:2.6.1", "amd64", "", "", ""};
  SbomInfo info;
  info.distro_version = "12";
  CHECK(deb_purl(p, info) == "pkg:deb/debian/apt@1%3A2.6.1?arch=amd64&distro=debian-12");
  DpkgPackage b{"libstdc++6", "12.2.0-14+deb12u1", "amd64", "", "", ""};
  info.distro = "ubuntu";
  info.distro_version = "";
  CHECK(deb_purl(b, info) == "pkg:deb/ubuntu/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=amd64");
}

TEST_CASE("sbom: SPDX 2.3 document with every package, deterministic") {
  SbomInfo info;
  info.document_name = "binder-image-test";
  info.distro_version = "12";
  info.created_epoch = 1700000000;
  auto a = spdx_sbom_from_dpkg_status(k_status, info);
  REQUIRE(a);
  auto b = spdx_sbom_from_dpkg_status(k_status, info);
  REQUIRE(b);
  CHECK(*a == *b);
  auto doc = parse(*a);
  CHECK(doc["spdxVersion"] == "SPDX-2.3");
  CHECK(doc["dataLicense"] == "CC0-1.0");
  CHECK(doc["SPDXID"] == "SPDXRef-DOCUMENT");
  CHECK(doc["creationInfo"]["created"] == "2023-11-14T22:13:20Z");
  CHECK(doc["creationInfo"]["creators"][0] == std::string("Tool: binder-image-") + BINDER_VERSION);
  CHECK(doc["documentNamespace"].get<std::string>().find(
            "https://mybinder.org/binder-image/spdx/binder-image-test-") == 0);
  REQUIRE(doc["packages"].size() == 4);
  const auto& bash = doc["packages"][1];
  CHECK(bash["SPDXID"] == "SPDXRef-deb-bash-amd64");
  CHECK(bash["name"] == "bash");
  CHECK(bash["versionInfo"] == "5.2.15-2+b8");
  CHECK(bash["supplier"] == "Organization: Matthias Klose (doko@debian.org)");
  CHECK(bash["downloadLocation"] == "NOASSERTION");
  CHECK(bash["licenseConcluded"] == "NOASSERTION");
  CHECK(bash["externalRefs"][0]["referenceType"] == "purl");
  CHECK(bash["externalRefs"][0]["referenceLocator"] ==
        "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12");
  CHECK(doc["packages"][3]["SPDXID"] == "SPDXRef-deb-libc6-i386");
  CHECK(doc["packages"][3]["sourceInfo"] == "built from the Debian source package glibc");
  REQUIRE(doc["relationships"].size() == 4);
  CHECK(doc["relationships"][0]["relationshipType"] == "DESCRIBES");
}

TEST_CASE("sbom: created is the build's SOURCE_DATE_EPOCH, not the environment's") {
  ::setenv("SOURCE_DATE_EPOCH", "86400", 1);
  SbomInfo info;
  info.created_epoch = 1700000000;
  auto s = spdx_sbom_from_dpkg_status(k_status, info);
  ::unsetenv("SOURCE_DATE_EPOCH");
  REQUIRE(s);
  CHECK(parse(*s)["creationInfo"]["created"] == "2023-11-14T22:13:20Z");
  info.created_epoch = 0;
  auto zero = spdx_sbom_from_dpkg_status(k_status, info);
  REQUIRE(zero);
  CHECK(parse(*zero)["creationInfo"]["created"] == "1970-01-01T00:00:00Z");
}

TEST_CASE("sbom: the creator names the tool with its version") {
  auto s = spdx_sbom_from_dpkg_status(k_status, {});
  REQUIRE(s);
  auto creators = parse(*s)["creationInfo"]["creators"];
  REQUIRE(creators.size() == 1);
  CHECK(creators[0] == std::string("Tool: binder-image-") + BINDER_VERSION);
  CHECK(std::string(BINDER_VERSION).find('.') != std::string::npos);
}

TEST_CASE("sbom: a stanza without Package is an error naming its line") {
  auto r = spdx_sbom_from_dpkg_status("Package: a\nStatus: install ok installed\n\nVersion: 1\n", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "dpkg status: the stanza at line 4 has no Package field");
}

TEST_CASE("sbom: this machine's whole dpkg status converts, ids unique") {
  auto text = binder::common::fs::read_file_if_exists("/var/lib/dpkg/status");
  REQUIRE(text);
  if (!*text) {
    BINDER_SKIP("no /var/lib/dpkg/status here; skipped");
  }
  auto pkgs = parse_dpkg_status(**text);
  REQUIRE(pkgs);
  auto s = spdx_sbom_from_dpkg_status(**text, {});
  REQUIRE(s);
  auto doc = parse(*s);
  REQUIRE(doc["packages"].size() == pkgs->size());
  CHECK(pkgs->size() > 100);
  std::set<std::string> ids;
  for (const auto& p : doc["packages"]) {
    ids.insert(p["SPDXID"].get<std::string>());
    CHECK(p["externalRefs"][0]["referenceLocator"].get<std::string>().find("pkg:deb/debian/") == 0);
  }
  CHECK(ids.size() == pkgs->size());
}

TEST_CASE("sbom: extra packages (baked charts) follow the dpkg packages with checksums and purls") {
  SbomInfo info;
  info.created_epoch = 1700000000;
  const std::string sha(64, 'a');
  info.extra_packages = {
      {"mybinder", "2020.12.4-0.dev.git.7587.h95860dbc", "https://codeload.github.com/x", sha, "",
       "packaged at build time"},
      {"traefik", "41.1.1", "oci://ghcr.io/traefik/helm", sha,
       "pkg:helm/traefik@41.1.1?repository_url=oci://ghcr.io/traefik/helm", ""},
  };
  auto a = spdx_sbom_from_dpkg_status(k_status, info);
  REQUIRE(a);
  auto doc = parse(*a);
  REQUIRE(doc["packages"].size() == 6);
  const auto& m = doc["packages"][4];
  CHECK(m["SPDXID"] == "SPDXRef-extra-1-mybinder");
  CHECK(m["versionInfo"] == "2020.12.4-0.dev.git.7587.h95860dbc");
  CHECK(m["checksums"][0]["algorithm"] == "SHA256");
  CHECK(m["checksums"][0]["checksumValue"] == sha);
  CHECK(m["downloadLocation"] == "https://codeload.github.com/x");
  CHECK(m["comment"] == "packaged at build time");
  CHECK_FALSE(m.contains("externalRefs"));
  CHECK(doc["packages"][5]["externalRefs"][0]["referenceLocator"] ==
        "pkg:helm/traefik@41.1.1?repository_url=oci://ghcr.io/traefik/helm");
  CHECK(doc["relationships"].size() == 6);
  // The namespace follows the extra packages too.
  SbomInfo plain;
  plain.created_epoch = 1700000000;
  CHECK(parse(spdx_sbom_from_dpkg_status(k_status, plain).value())["documentNamespace"] !=
        doc["documentNamespace"]);
}
