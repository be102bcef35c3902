// SBOM: an SPDX 2.3 JSON document of the Debian/Ubuntu packages installed in an image, made from
// the text of the image's /var/lib/dpkg/status (the pipeline reads it out of the image). Pure and
// deterministic: packages sorted by (name, arch, version), SPDXIDs derived from them, `created`
// the build's SOURCE_DATE_EPOCH (SbomInfo::created_epoch), namespace derived from the content.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace binder::exporter {

// One installed package from dpkg status ("Status: install ok installed" only).
struct DpkgPackage {
  std::string name;
  std::string version;
  std::string architecture;  // "amd64", "all", ...
  std::string maintainer;    // "Name <mail>" as in dpkg status
  std::string source;        // source package name ("" = same as name); version stripped
  std::string homepage;
};

// A non-dpkg component of the image (a baked Helm chart, its source archive, a CRDs file).
struct ExtraPackage {
  std::string name;  // "mybinder", "binderhub", "mybinder.org-deploy"
  std::string version;
  std::string download_location;  // the URL it came from
  std::string sha256;             // 64 hex (SPDX checksum SHA256), or ""
  std::string purl;               // "pkg:helm/...", "pkg:github/...", or ""
  std::string comment;            // e.g. "packaged with charts/ filled in; excluded: ..."
};

struct SbomInfo {
  std::string document_name;      // e.g. "binder-image-ovh"; "" = "binder-image"
  std::string distro = "debian";  // purl namespace: debian | ubuntu
  std::string distro_version;     // purl qualifier distro=debian-12 when set ("12")
  // "Tool: <creator_tool>": the SPDX form "name-version", e.g. "binder-image-0.1.0".
  std::string creator_tool = std::string("binder-image-") + BINDER_VERSION;
  // Namespace prefix; the document's namespace is "<prefix>/<name>-<sha256 of the package list>".
  std::string namespace_prefix = "https://mybinder.org/binder-image/spdx";
  // created time: the build's SOURCE_DATE_EPOCH (seconds; 0 is 1970-01-01T00:00:00Z).
  std::int64_t created_epoch = 0;
  // Listed after the dpkg packages, in this order (SPDXRef-extra-<n>-<name>).
  std::vector<ExtraPackage> extra_packages;
};

// Parses dpkg status text (RFC 822-style stanzas, continuation lines). Only installed packages
// are returned, sorted. On malformed input (a stanza without Package) an Errc::invalid_config
// error naming the stanza's line.
common::Result<std::vector<DpkgPackage>> parse_dpkg_status(std::string_view status_text);

// "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12"
std::string deb_purl(const DpkgPackage& pkg, const SbomInfo& info);

// The SPDX 2.3 JSON document (2-space indented, trailing newline). Each package: SPDXID,
// name, versionInfo, supplier ("Organization: <maintainer>"), downloadLocation NOASSERTION,
// filesAnalyzed false, licenseConcluded/licenseDeclared NOASSERTION, copyrightText NOASSERTION,
// externalRefs [purl]; the document DESCRIBES every package.
common::Result<std::string> spdx_sbom_from_dpkg_status(std::string_view status_text, const SbomInfo& info);

}  // namespace binder::exporter
