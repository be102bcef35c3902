// The mybinder release and the image's cert-manager release (see mybinder_release.hpp).
#include "firstboot/render/mybinder_release.hpp"

#include "firstboot/render/helmchart.hpp"
#include "firstboot/render/member_overrides.hpp"
#include "firstboot/render/mybinder_files.hpp"
#include "firstboot/render/yaml.hpp"

namespace binder::firstboot::render {

using nlohmann::json;

MybinderRelease mybinder_release(const Member& member, const Sizing& size, const SecretsView& secrets,
                                 const ImageCharts& charts) {
  MybinderRelease r;
  const auto& mb = charts.manifest.mybinder;
  r.chart = {member.cluster(), static_chart_url(mb), "",
             mb.version,       member.cluster(),     member.cluster() + "-mybinder-values"};
  r.config_path = mybinder_config_path(member);
  r.config_text = mybinder_file_text(member, mybinder_config(member, size), false);
  r.secrets_path = mybinder_secrets_path(member);
  r.secrets_text = mybinder_file_text(member, mybinder_secrets(member, secrets), true);
  r.set = member_overrides_set();
  r.member_values_secret = member.cluster() + "-member-values";
  if (!member.binderhub.github_token.empty()) {
    r.member_values["binderhub"]["config"]["GitHubRepoProvider"]["access_token"] =
        secrets.get(secret::github_token);
  }
  return r;
}

json mybinder_helmchart(const MybinderRelease& release) {
  json hc = helmchart_manifest_text(release.chart, release.config_text, release.set);
  if (!release.member_values.empty()) {
    hc["spec"]["valuesSecrets"].push_back(
        {{"name", release.member_values_secret}, {"keys", json::array({k_values_secret_key})}});
  }
  return hc;
}

json mybinder_member_values_secret(const MybinderRelease& release) {
  ChartRef ref = release.chart;
  ref.values_secret = release.member_values_secret;
  return values_secret_manifest(ref, release.member_values);
}

json mybinder_values_secret(const MybinderRelease& release) {
  return values_secret_manifest_text(release.chart, release.secrets_text);
}

ChartRef image_cert_manager_chart(const ImageCharts& charts) {
  const auto& cm = charts.manifest.cert_manager;
  return {"cert-manager", static_chart_url(cm), "", cm.version, "cert-manager", ""};
}

json image_cert_manager_helmchart(const ImageCharts& charts) {
  return helmchart_manifest_text(image_cert_manager_chart(charts), charts.cert_manager_values_text,
                                 json::object());
}

std::vector<std::string> mybinder_deployments(const Member& member) {
  // harbor-helm's fullname: the release name when it already contains "harbor", else
  // "<release>-harbor".
  const std::string& c = member.cluster();
  const std::string h = c.find("harbor") != std::string::npos ? c : c + "-harbor";
  return {"binder", "hub", "proxy", h + "-core", h + "-portal", h + "-registry", h + "-jobservice"};
}

}  // namespace binder::firstboot::render
