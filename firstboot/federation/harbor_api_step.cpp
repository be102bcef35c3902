// harbor:api: waits for the member's Harbor to report healthy through its ingress, then converges
// the project (with its quota), the retention policy and the two project robots. Robot secrets are
// ours, not Harbor's: generated and journaled before the robot is created, then set with PATCH, and
// the robot id they were set on is journaled too. A robot found with another id (made by someone
// else, or recreated) gets our secret again, so the secret in the journal always works. Then the
// GC schedule real members have (Sundays 07:00, delete untagged). In federation mode the release's
// values Secret (secrets/config/<cluster>.yaml, holding the robot credentials) is re-applied
// when it differs, so the mybinder release always runs with the robots' secrets. Skipped (nothing
// sent) for registry.kind external: BinderHub uses the operator's registry credentials.
#include "common/log.hpp"
#include "firstboot/clients/harbor.hpp"
#include "firstboot/federation/context.hpp"
#include "firstboot/render/api_requests.hpp"
#include "firstboot/render/charts.hpp"

namespace binder::firstboot::federation {

namespace log = common::log;
namespace clients = firstboot::clients;

namespace {

clients::RobotSpec spec_of(const nlohmann::json& request) {
  clients::RobotSpec spec{request.value("name", ""), request.value("description", ""), {}};
  for (const auto& perm : request.value("permissions", nlohmann::json::array())) {
    for (const auto& a : perm.value("access", nlohmann::json::array())) {
      spec.actions.push_back(a.value("action", ""));
    }
  }
  return spec;
}

class HarborApiStep : public Step {
 public:
  explicit HarborApiStep(FederationOptions o) : m_options(std::move(o)) {}
  std::string_view id() const override { return "harbor:api"; }
  std::string describe(const Env& env) const override {
    if (!env.member.registry)
      return "no registry section: nothing to do";
    if (!env.member.registry->harbor())
      return "registry.kind external: no Harbor to configure";
    return fmt::format(
        "wait for {}/health; project '{}' (quota {} GB), retention 30 days, robots "
        "'{}' and '{}', GC schedule",
        harbor_api(env, m_options), render::registry_project(env.member), env.member.registry->quota_gb,
        render::builder_robot_name(env.member), render::puller_robot_name(env.member));
  }
  std::string fingerprint(const Env& env) const override {
    if (!env.member.registry)
      return fingerprint_of({"v1", "none"});
    if (!env.member.registry->harbor())
      return fingerprint_of({"v1", "external"});
    return fingerprint_of({"v2", harbor_api(env, m_options), to_string(env.member.mode),
                           render::registry_project(env.member),
                           std::to_string(env.member.registry->quota_gb),
                           render::builder_robot_name(env.member), render::puller_robot_name(env.member)});
  }

  Result<Outcome> apply(Env& env) override {
    if (!env.member.registry) {
      log::info("no registry section in the metadata: no Harbor to configure");
      return Outcome::unchanged;
    }
    if (!env.member.registry->harbor()) {
      log::info("registry.kind external ({}): no Harbor, no robots", env.member.registry->url);
      return Outcome::unchanged;
    }
    auto admin = env.output(secret_output_key(render::secret::harbor_admin_password));
    if (!admin) {
      return common::fail(common::Errc::precondition,
                          "the Harbor admin password is not in the journal (secrets step)");
    }
    std::string api = harbor_api(env, m_options);
    clients::Harbor harbor(api, "admin", *admin, m_options.http);
    TRY(wait_for(env, m_options, fmt::format("Harbor at {} to report healthy", api), m_options.harbor_timeout,
                 [&] { return harbor.healthy(); }));

    bool changed = false;
    clients::Change c{};
    TRY_ASSIGN(auto project,
               harbor.ensure_project(render::registry_project(env.member), env.member.registry->quota_gb, c));
    changed |= c != clients::Change::unchanged;
    TRY_ASSIGN(c, harbor.ensure_retention(project, render::harbor_retention_request(project.id)));
    changed |= c != clients::Change::unchanged;
    TRY_ASSIGN(bool b, robot(env, harbor, project, render::harbor_builder_robot_request(env.member),
                             render::secret::builder_robot_secret, "builder"));
    TRY_ASSIGN(bool p, robot(env, harbor, project, render::harbor_puller_robot_request(env.member),
                             render::secret::puller_robot_secret, "puller"));
    TRY_ASSIGN(c, harbor.ensure_gc_schedule(render::harbor_gc_schedule_request()));
    changed |= c != clients::Change::unchanged;
    if (env.member.mode == Mode::federation) {
      TRY_ASSIGN(KubeClient kube, kube_client(env, m_options));
      TRY_ASSIGN(bool v, apply_release_values(env, kube));
      changed |= v;
    }
    return changed || b || p ? Outcome::changed : Outcome::unchanged;
  }

 private:
  Result<bool> robot(Env& env, clients::Harbor& harbor, const clients::HarborProject& project,
                     const nlohmann::json& request, std::string_view secret_name, const std::string& role) {
    auto spec = spec_of(request);
    TRY_ASSIGN(std::string secret, ensure_secret(env, secret_name, [] {
                 return Result<std::string>(clients::make_robot_secret());
               }));
    std::string id_key = "harbor.robot." + role + ".id";
    std::optional<int> applied;
    if (auto v = env.output(id_key))
      applied = std::atoi(v->c_str());
    clients::Change c{};
    TRY_ASSIGN(auto robot, harbor.ensure_robot(project, spec, secret, applied, c));
    if (applied != robot.id) {
      TRY(env.put_output(id_key, std::to_string(robot.id)));
    }
    log::info("Harbor robot '{}': {}", robot.name, clients::to_string(c));
    return c != clients::Change::unchanged;
  }
  FederationOptions m_options;
};

}  // namespace

std::unique_ptr<Step> make_harbor_api_step(const FederationOptions& o) {
  return std::make_unique<HarborApiStep>(o);
}

}  // namespace binder::firstboot::federation
