// See sbom.hpp. dpkg status is deb822: stanzas separated by blank lines, "Field: value" lines,
// continuation lines starting with a space or tab. We read only the fields the SBOM needs.
#include "export/sbom.hpp"

#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include <nlohmann/json.hpp>

#include "common/hash.hpp"
#include "common/text.hpp"

namespace binder::exporter {
namespace {

using common::Errc;
using common::fail;

std::string trim(std::string_view s) { return std::string(common::trim(s)); }

// purl percent-encoding: everything but unreserved characters.
std::string pct(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// SPDX ids allow [A-Za-z0-9.-] after "SPDXRef-".
std::string id_part(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '-';
  }
  return out;
}

// "Name <mail>" -> "Organization: Name (mail)" (SPDX supplier syntax).
std::string supplier(const std::string& maintainer) {
  if (maintainer.empty()) {
    return "NOASSERTION";
  }
  std::string m = maintainer;
  std::replace(m.begin(), m.end(), '<', '(');
  std::replace(m.begin(), m.end(), '>', ')');
  return "Organization: " + m;
}

std::string iso8601(std::int64_t epoch) {
  time_t t = static_cast<time_t>(epoch);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

common::Result<std::vector<DpkgPackage>> parse_dpkg_status(std::string_view text) {
  std::vector<DpkgPackage> out;
  std::map<std::string, std::string> fields;
  int line_no = 0, stanza_line = 0;
  std::string last;
  auto flush = [&]() -> common::Result<void> {
    if (fields.empty()) {
      return {};
    }
    if (!fields.contains("Package")) {
      return fail(Errc::invalid_config, "dpkg status: the stanza at line {} has no Package field",
                  stanza_line);
    }
    // "install ok installed"; half-installed, config-files etc. are not in the image's SBOM.
    std::string status = fields["Status"];
    if (status.size() >= 9 && status.ends_with(" installed")) {
      DpkgPackage p{fields["Package"],    fields["Version"], fields["Architecture"],
                    fields["Maintainer"], fields["Source"],  fields["Homepage"]};
      p.source = trim(p.source.substr(0, p.source.find('(')));
      out.push_back(std::move(p));
    }
    fields.clear();
    return {};
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (trim(line).empty()) {
      TRY(flush());
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      continue;  // continuation of a multi-line field (Description, Conffiles): not needed
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return fail(Errc::invalid_config, "dpkg status: line {} is not 'Field: value'", line_no);
    }
    if (fields.empty()) {
      stanza_line = line_no;
    }
    fields[std::string(line.substr(0, colon))] = trim(line.substr(colon + 1));
  }
  TRY(flush());
  std::sort(out.begin(), out.end(), [](const DpkgPackage& a, const DpkgPackage& b) {
    return std::tie(a.name, a.architecture, a.version) < std::tie(b.name, b.architecture, b.version);
  });
  return out;
}

std::string deb_purl(const DpkgPackage& pkg, const SbomInfo& info) {
  std::string purl = fmt::format("pkg:deb/{}/{}@{}", info.distro, pct(pkg.name), pct(pkg.version));
  std::string q;
  if (!pkg.architecture.empty()) {
    q += "arch=" + pct(pkg.architecture);
  }
  if (!info.distro_version.empty()) {
    q += (q.empty() ? "" : "&") + std::string("distro=") + pct(info.distro + "-" + info.distro_version);
  }
  return q.empty() ? purl : purl + "?" + q;
}

common::Result<std::string> spdx_sbom_from_dpkg_status(std::string_view status_text, const SbomInfo& info) {
  TRY_ASSIGN(std::vector<DpkgPackage> pkgs, parse_dpkg_status(status_text));
  if (info.distro != "debian" && info.distro != "ubuntu") {
    return fail(Errc::invalid_config, "sbom: distro '{}' is not debian or ubuntu", info.distro);
  }
  const std::string name = info.document_name.empty() ? "binder-image" : info.document_name;
  using ojson = nlohmann::ordered_json;
  ojson packages = ojson::array();
  ojson relationships = ojson::array();
  std::map<std::string, int> ids;
  std::string listing;  // canonical package list, names the document namespace
  for (const DpkgPackage& p : pkgs) {
    std::string id = "SPDXRef-deb-" + id_part(p.name) + "-" + id_part(p.architecture);
    if (int n = ids[id]++; n > 0) {
      id += "-" + std::to_string(n + 1);
    }
    listing += fmt::format("{} {} {}\n", p.name, p.version, p.architecture);
    ojson j;
    j["SPDXID"] = id;
    j["name"] = p.name;
    j["versionInfo"] = p.version;
    j["supplier"] = supplier(p.maintainer);
    j["downloadLocation"] = "NOASSERTION";
    j["filesAnalyzed"] = false;
    if (!p.homepage.empty()) {
      j["homepage"] = p.homepage;
    }
    if (!p.source.empty() && p.source != p.name) {
      j["sourceInfo"] = "built from the Debian source package " + p.source;
    }
    j["licenseConcluded"] = "NOASSERTION";
    j["licenseDeclared"] = "NOASSERTION";
    j["copyrightText"] = "NOASSERTION";
    j["externalRefs"] = ojson::array({ojson{{"referenceCategory", "PACKAGE-MANAGER"},
                                            {"referenceType", "purl"},
                                            {"referenceLocator", deb_purl(p, info)}}});
    packages.push_back(std::move(j));
    relationships.push_back(ojson{{"spdxElementId", "SPDXRef-DOCUMENT"},
                                  {"relationshipType", "DESCRIBES"},
                                  {"relatedSpdxElement", id}});
  }
  for (std::size_t i = 0; i < info.extra_packages.size(); ++i) {
    const ExtraPackage& e = info.extra_packages[i];
    std::string id = fmt::format("SPDXRef-extra-{}-{}", i + 1, id_part(e.name));
    listing += fmt::format("extra {} {} {}\n", e.name, e.version, e.sha256);
    ojson j;
    j["SPDXID"] = id;
    j["name"] = e.name;
    j["versionInfo"] = e.version;
    j["supplier"] = "NOASSERTION";
    j["downloadLocation"] = e.download_location.empty() ? "NOASSERTION" : e.download_location;
    j["filesAnalyzed"] = false;
    if (!e.sha256.empty()) {
      j["checksums"] = ojson::array({ojson{{"algorithm", "SHA256"}, {"checksumValue", e.sha256}}});
    }
    j["licenseConcluded"] = "NOASSERTION";
    j["licenseDeclared"] = "NOASSERTION";
    j["copyrightText"] = "NOASSERTION";
    if (!e.comment.empty()) {
      j["comment"] = e.comment;
    }
    if (!e.purl.empty()) {
      j["externalRefs"] = ojson::array({ojson{{"referenceCategory", "PACKAGE-MANAGER"},
                                              {"referenceType", "purl"},
                                              {"referenceLocator", e.purl}}});
    }
    packages.push_back(std::move(j));
    relationships.push_back(ojson{{"spdxElementId", "SPDXRef-DOCUMENT"},
                                  {"relationshipType", "DESCRIBES"},
                                  {"relatedSpdxElement", id}});
  }
  std::int64_t created = info.created_epoch;
  ojson doc;
  doc["spdxVersion"] = "SPDX-2.3";
  doc["dataLicense"] = "CC0-1.0";
  doc["SPDXID"] = "SPDXRef-DOCUMENT";
  doc["name"] = name;
  doc["documentNamespace"] =
      fmt::format("{}/{}-{}", info.namespace_prefix, name, common::hash::sha256_hex(listing).substr(0, 32));
  doc["creationInfo"] =
      ojson{{"created", iso8601(created)}, {"creators", ojson::array({"Tool: " + info.creator_tool})}};
  doc["packages"] = std::move(packages);
  doc["relationships"] = std::move(relationships);
  return doc.dump(2) + "\n";
}

}  // namespace binder::exporter
