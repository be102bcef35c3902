// Standalone mode's HelmChart steps (federation mode: release_steps.cpp): ingress:cert-manager
// (chart, ready, then the ClusterIssuer), ingress:traefik,
// harbor:chart (skipped, nothing sent, for registry.kind external) and binderhub:chart (which
// waits until the BinderHub deployments are ready). Each
// applies the chart's valuesSecrets Secret first (secret values never enter a manifest file or the
// HelmChart itself), then the HelmChart; KubeClient::apply writes only when the live object
// differs.
#include "common/hash.hpp"
#include "common/log.hpp"
#include "firstboot/federation/context.hpp"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/helmchart.hpp"
#include "firstboot/render/sizing.hpp"

namespace binder::firstboot::federation {

namespace log = common::log;

namespace {

enum class ChartKind { cert_manager, traefik, harbor, binderhub };

render::ChartRef chart_of(ChartKind k, const Member& m) {
  switch (k) {
    case ChartKind::cert_manager:
      return render::cert_manager_chart();
    case ChartKind::traefik:
      return render::traefik_chart();
    case ChartKind::harbor:
      return render::harbor_chart(m);
    case ChartKind::binderhub:
      return render::binderhub_chart(m);
  }
  return {};
}

render::ChartValues values_of(ChartKind k, const Env& env) {
  auto size = render::size_machine(env.facts, env.member);
  switch (k) {
    case ChartKind::cert_manager:
      return render::cert_manager_values(env.member);
    case ChartKind::traefik:
      return render::traefik_values(env.member, size);
    case ChartKind::harbor:
      return render::harbor_values(env.member, size, secrets_view(env));
    case ChartKind::binderhub:
      return render::binderhub_values(env.member, size, secrets_view(env));
  }
  return {};
}

// Refuses to send a document that still holds a "<secret:NAME>" placeholder: the step that
// produces that secret has not run.
Result<void> check_no_placeholder(const nlohmann::json& doc, const std::string& chart) {
  std::string text = doc.dump();
  auto p = text.find("<secret:");
  if (p == std::string::npos)
    return {};
  return common::fail(common::Errc::precondition, "values of chart '{}' still need {}", chart,
                      text.substr(p, text.find('>', p) - p + 1));
}

class ChartStep : public Step {
 public:
  ChartStep(FederationOptions o, ChartKind kind, std::string id)
      : m_options(std::move(o)), m_kind(kind), m_id(std::move(id)) {}
  std::string_view id() const override { return m_id; }
  std::string describe(const Env& env) const override {
    if (skipped(env))
      return "registry.kind external: no Harbor release";
    auto c = chart_of(m_kind, env.member);
    return fmt::format("HelmChart {}/{}: chart '{}' {} into namespace '{}'{}", render::k_helmchart_namespace,
                       c.name, c.chart, c.version, c.target_namespace,
                       wait_names(env).empty() ? "" : ", wait until ready");
  }
  std::string fingerprint(const Env& env) const override {
    if (skipped(env))
      return fingerprint_of({"v1", "external"});
    auto c = chart_of(m_kind, env.member);
    auto v = values_of(m_kind, env);
    return fingerprint_of({"v1", c.name, c.chart, c.repo, c.version, c.target_namespace, v.values.dump(),
                           common::hash::sha256_hex(v.secret_values.dump())});
  }
  Result<Outcome> apply(Env& env) override {
    if (skipped(env)) {
      log::info("registry.kind external ({}): Harbor is not installed", env.member.registry->url);
      return Outcome::unchanged;
    }
    auto chart = chart_of(m_kind, env.member);
    auto values = values_of(m_kind, env);
    TRY(check_no_placeholder(values.secret_values, chart.name));
    TRY_ASSIGN(KubeClient kube, kube_client(env, m_options));
    bool changed = false;
    if (!chart.values_secret.empty()) {
      TRY_ASSIGN(bool c, apply_logged(kube, render::values_secret_manifest(chart, values.secret_values)));
      changed |= c;
    }
    TRY_ASSIGN(bool c, apply_logged(kube, render::helmchart_manifest(chart, values.values)));
    changed |= c;
    if (m_kind == ChartKind::cert_manager) {
      TRY(wait_deployments(env, kube, m_options, chart.target_namespace, wait_names(env)));
      TRY_ASSIGN(bool issuer, apply_logged(kube, render::cluster_issuer(env.member)));
      changed |= issuer;
    } else if (m_kind == ChartKind::binderhub) {
      TRY(wait_deployments(env, kube, m_options, render::traefik_chart().target_namespace, {}));
      TRY(wait_deployments(env, kube, m_options, chart.target_namespace, wait_names(env)));
      log::notice("BinderHub is ready at https://{}", render::binder_host(env.member));
    }
    return changed ? Outcome::changed : Outcome::unchanged;
  }

 private:
  bool skipped(const Env& env) const { return m_kind == ChartKind::harbor && !runs_harbor(env.member); }
  std::vector<std::string> wait_names(const Env&) const {
    if (m_kind == ChartKind::cert_manager) {
      return {"cert-manager", "cert-manager-cainjector", "cert-manager-webhook"};
    }
    if (m_kind == ChartKind::binderhub)
      return {"binder", "hub", "proxy"};
    return {};
  }
  FederationOptions m_options;
  ChartKind m_kind;
  std::string m_id;
};

}  // namespace

std::unique_ptr<Step> make_cert_manager_step(const FederationOptions& o) {
  return std::make_unique<ChartStep>(o, ChartKind::cert_manager, "ingress:cert-manager");
}
std::unique_ptr<Step> make_traefik_step(const FederationOptions& o) {
  return std::make_unique<ChartStep>(o, ChartKind::traefik, "ingress:traefik");
}
std::unique_ptr<Step> make_harbor_chart_step(const FederationOptions& o) {
  return std::make_unique<ChartStep>(o, ChartKind::harbor, "harbor:chart");
}
std::unique_ptr<Step> make_binderhub_step(const FederationOptions& o) {
  return std::make_unique<ChartStep>(o, ChartKind::binderhub, "binderhub:chart");
}

}  // namespace binder::firstboot::federation
