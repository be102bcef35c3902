// Federation mode's two HelmCharts, as `deploy.py <cluster>` deploys them (member spec Step 10;
// render/mybinder_release.hpp):
//   ingress:cert-manager  the CRDs from the image (cert-manager.crds.yaml, applied like deploy.py's
//                         `kubectl apply -f`), then HelmChart cert-manager from the baked archive
//                         with mybinder's config/cert-manager.yaml; wait until ready. No separate
//                         ClusterIssuer: the mybinder chart owns letsencrypt-prod/-staging (one
//                         made here first would block its install on Helm ownership).
//   mybinder:chart        the robot secrets (generated and journaled once, so the release is
//                         deployed with its final values), Secret kube-system/<cluster>-mybinder-
//                         values (= secrets/config/<cluster>.yaml), HelmChart <cluster> (= config
//                         /<cluster>.yaml + the member overrides); wait until BinderHub and the
//                         chart's Harbor are ready.
// Both read the image's charts manifest and verify the archives' sha256 before anything is sent.
#include "common/hash.hpp"
#include "common/log.hpp"
#include "firstboot/clients/harbor.hpp"
#include "firstboot/federation/context.hpp"
#include "firstboot/render/charts_manifest.hpp"
#include "firstboot/render/member_overrides.hpp"
#include "firstboot/render/mybinder_files.hpp"
#include "firstboot/render/mybinder_release.hpp"

namespace binder::firstboot::federation {

namespace log = common::log;

Result<render::ImageCharts> image_charts(const Env& env) { return render::load_image_charts(env.path("/")); }

Result<render::MybinderRelease> mybinder_release(const Env& env) {
  TRY_ASSIGN(auto charts, image_charts(env));
  return render::mybinder_release(env.member, render::size_machine(env.facts, env.member), secrets_view(env),
                                  charts);
}

Result<bool> apply_release_values(Env& env, KubeClient& kube) {
  TRY_ASSIGN(auto release, mybinder_release(env));
  auto p = release.secrets_text.find("<secret:");
  if (p != std::string::npos) {
    return common::fail(common::Errc::precondition, "the values of release '{}' still need {}",
                        release.chart.name,
                        release.secrets_text.substr(p, release.secrets_text.find('>', p) - p + 1));
  }
  return apply_logged(kube, render::mybinder_values_secret(release));
}

namespace {

std::string charts_fingerprint(const Env& env) {
  auto charts = image_charts(env);
  if (!charts)
    return "unreadable: " + charts.error().message;
  const auto& m = charts->manifest;
  return m.mybinder.file + m.mybinder.sha256 + m.cert_manager.file + m.cert_manager.sha256 +
         m.cert_manager_crds_sha256 + common::hash::sha256_hex(charts->cert_manager_values_text);
}

class CertManagerStep : public Step {
 public:
  explicit CertManagerStep(FederationOptions o) : m_options(std::move(o)) {}
  std::string_view id() const override { return "ingress:cert-manager"; }
  std::string describe(const Env& env) const override {
    auto charts = image_charts(env);
    if (!charts)
      return "cert-manager from the image (" + charts.error().message + ")";
    return fmt::format(
        "CRDs from {}, then HelmChart {}/cert-manager: {} {} into namespace 'cert-manager', "
        "wait until ready",
        charts->manifest.cert_manager_crds_file, render::k_helmchart_namespace,
        render::static_chart_url(charts->manifest.cert_manager), charts->manifest.cert_manager.version);
  }
  std::string fingerprint(const Env& env) const override {
    return fingerprint_of({"v2", charts_fingerprint(env)});
  }
  Result<Outcome> apply(Env& env) override {
    TRY_ASSIGN(auto charts, image_charts(env));
    TRY_ASSIGN(auto crds,
               render::yaml_documents(charts.cert_manager_crds, charts.manifest.cert_manager_crds_file));
    TRY_ASSIGN(KubeClient kube, kube_client(env, m_options));
    bool changed = false;
    for (const auto& crd : crds) {
      if (crd.value("kind", "") != "CustomResourceDefinition") {
        return common::fail(
            common::Errc::invalid_config, "{}: expected only CustomResourceDefinitions, found {} '{}'",
            charts.manifest.cert_manager_crds_file, crd.value("kind", "?"), ObjectRef::of(crd).name);
      }
      TRY_ASSIGN(bool c, apply_logged(kube, crd));
      changed |= c;
    }
    TRY_ASSIGN(bool c, apply_logged(kube, render::image_cert_manager_helmchart(charts)));
    changed |= c;
    TRY(wait_deployments(env, kube, m_options, "cert-manager",
                         {"cert-manager", "cert-manager-cainjector", "cert-manager-webhook"}));
    return changed ? Outcome::changed : Outcome::unchanged;
  }

 private:
  FederationOptions m_options;
};

class MybinderStep : public Step {
 public:
  explicit MybinderStep(FederationOptions o) : m_options(std::move(o)) {}
  std::string_view id() const override { return "mybinder:chart"; }
  std::string describe(const Env& env) const override {
    auto charts = image_charts(env);
    if (!charts)
      return "the mybinder chart from the image (" + charts.error().message + ")";
    return fmt::format(
        "HelmChart {}/{}: {} {} as release '{}' into namespace '{}' (values = {} + {} + {} member "
        "overrides), wait until ready",
        render::k_helmchart_namespace, env.member.cluster(),
        render::static_chart_url(charts->manifest.mybinder), charts->manifest.mybinder.version,
        env.member.cluster(), env.member.cluster(), render::mybinder_config_path(env.member),
        render::mybinder_secrets_path(env.member), render::member_overrides().size());
  }
  std::string fingerprint(const Env& env) const override {
    auto r = mybinder_release(env);
    if (!r)
      return fingerprint_of({"v1", "unreadable", r.error().message});
    return fingerprint_of({"v1", charts_fingerprint(env), r->chart.name, r->config_text,
                           common::hash::sha256_hex(r->secrets_text), r->set.dump(),
                           common::hash::sha256_hex(r->member_values.dump())});
  }
  Result<Outcome> apply(Env& env) override {
    // Robot secrets are ours (harbor:api sets them on the robots): generate them now so the
    // release starts with its final registry credentials.
    for (auto name : {render::secret::builder_robot_secret, render::secret::puller_robot_secret}) {
      TRY(ensure_secret(env, name, [] { return Result<std::string>(clients::make_robot_secret()); }));
    }
    TRY_ASSIGN(auto release, mybinder_release(env));
    TRY_ASSIGN(KubeClient kube, kube_client(env, m_options));
    TRY_ASSIGN(bool s, apply_release_values(env, kube));
    if (!release.member_values.empty()) {
      TRY_ASSIGN(bool d, apply_logged(kube, render::mybinder_member_values_secret(release)));
      s |= d;
    }
    TRY_ASSIGN(bool h, apply_logged(kube, render::mybinder_helmchart(release)));
    TRY(wait_deployments(env, kube, m_options, env.member.cluster(),
                         render::mybinder_deployments(env.member)));
    log::notice("BinderHub is ready at https://{}", render::binder_host(env.member));
    return s || h ? Outcome::changed : Outcome::unchanged;
  }

 private:
  FederationOptions m_options;
};

}  // namespace

std::unique_ptr<Step> make_image_cert_manager_step(const FederationOptions& o) {
  return std::make_unique<CertManagerStep>(o);
}
std::unique_ptr<Step> make_mybinder_step(const FederationOptions& o) {
  return std::make_unique<MybinderStep>(o);
}

}  // namespace binder::firstboot::federation
