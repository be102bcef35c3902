// See image_sbom.hpp.
#include "export/image_sbom.hpp"

#include "export/os_release.hpp"

namespace binder::exporter {

using nlohmann::json;

namespace {

std::vector<ExtraPackage> chart_packages_unchecked(const json& j) {
  std::vector<ExtraPackage> out;
  const auto& m = j.at("mybinder");
  const auto& src = m.at("source");
  auto hex = [](std::string d) { return d.starts_with("sha256:") ? d.substr(7) : d; };
  out.push_back({"mybinder.org-deploy", src.at("commit").get<std::string>(), src.at("url").get<std::string>(),
                 src["sha256"].get<std::string>(),
                 "pkg:github/jupyterhub/mybinder.org-deploy@" + src.at("commit").get<std::string>(),
                 src["sha256_pinned"].get<bool>()
                     ? "source archive, sha256 pinned"
                     : "source archive, verified by its commit id; sha256 as downloaded"});
  std::string excluded;
  for (const auto& e : m.at("excluded_files")) {
    excluded += (excluded.empty() ? "" : ", ") + e.get<std::string>();
  }
  std::string images;
  for (const auto& [path, ref] : m.at("images").items()) {
    images += (images.empty() ? "" : ", ") + path + "=" + ref.get<std::string>();
  }
  out.push_back({"mybinder", m.at("version").get<std::string>(), src.at("url").get<std::string>(),
                 m["sha256"].get<std::string>(), "",
                 fmt::format("packaged at build time as {}; chartpress images: {}; excluded (git-crypt): {}",
                             m.at("file").get<std::string>(), images, excluded.empty() ? "none" : excluded)});
  for (const auto& d : m.at("dependencies")) {
    out.push_back({d.at("name").get<std::string>(), d.at("version").get<std::string>(),
                   d.at("url").get<std::string>(), hex(d.at("digest").get<std::string>()),
                   fmt::format("pkg:helm/{}@{}?repository_url={}", d.at("name").get<std::string>(),
                               d.at("version").get<std::string>(), d.at("repository").get<std::string>()),
                   "dependency of the mybinder chart"});
  }
  const auto& cm = j.at("cert_manager");
  out.push_back({"cert-manager", cm.at("version").get<std::string>(), cm.at("repository").get<std::string>(),
                 cm["sha256"].get<std::string>(),
                 fmt::format("pkg:helm/cert-manager@{}?repository_url={}",
                             cm.at("version").get<std::string>(), cm.at("repository").get<std::string>()),
                 "Helm chart"});
  out.push_back({"cert-manager-crds", cm.at("version").get<std::string>(),
                 cm.at("crds_url").get<std::string>(), cm["crds_sha256"].get<std::string>(), "",
                 "cert-manager.crds.yaml of that release"});
  return out;
}

}  // namespace

common::Result<std::vector<ExtraPackage>> chart_packages(const json& charts_json) {
  if (charts_json.is_null()) {
    return std::vector<ExtraPackage>{};
  }
  try {
    return chart_packages_unchecked(charts_json);
  } catch (const json::exception& e) {
    return common::fail(common::Errc::corrupt_state, "charts.json: {}", e.what());
  }
}

common::Result<std::string> image_sbom(const ImageSbomInputs& in) {
  SbomInfo info;
  info.document_name = "binder-image-" + in.profile_name;
  TRY_ASSIGN(info.extra_packages, chart_packages(in.charts_json));
  info.created_epoch = in.created_epoch;
  if (in.os_release) {
    std::string id = os_release_value(*in.os_release, "ID");
    info.distro = id.empty() ? info.distro : id;
    info.distro_version = os_release_value(*in.os_release, "VERSION_ID");
  }
  return spdx_sbom_from_dpkg_status(in.dpkg_status, info);
}

}  // namespace binder::exporter
