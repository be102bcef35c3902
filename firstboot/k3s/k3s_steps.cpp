// The k3s file steps. The service and readiness steps are in k3s_service.cpp.
#include "firstboot/k3s/k3s_steps.hpp"

#include <filesystem>

#include "common/fs.hpp"
#include "firstboot/host/files.hpp"
#include "firstboot/k3s/k3s_files.hpp"

namespace binder::firstboot::k3s {
namespace {

// A step that converges one rendered file (or its absence).
class FileStep : public Step {
 public:
  using Render = std::string (*)(const Env&);
  FileStep(std::string_view id, std::string_view path, mode_t mode, Render render, std::string what)
      : m_id(id), m_path(path), m_mode(mode), m_render(render), m_what(std::move(what)) {}

  std::string_view id() const override { return m_id; }
  std::string describe(const Env& env) const override {
    return m_render(env).empty() ? fmt::format("no {} (remove '{}' if we wrote it)", m_what, m_path)
                                 : fmt::format("write {} '{}'", m_what, m_path);
  }
  std::string fingerprint(const Env& env) const override {
    return fingerprint_of({m_render(env), std::to_string(m_mode)});
  }
  Result<Outcome> apply(Env& env) override {
    std::string content = m_render(env);
    if (!content.empty()) {
      return host::ensure_file(env, m_path, content, m_mode);
    }
    // Absent: remove only a file we wrote (our header line), never an operator's own.
    TRY_ASSIGN(auto cur, common::fs::read_file_if_exists(env.path(m_path)));
    if (cur && (cur->starts_with("# Written by binder-firstboot") || *cur == upgrade_plan_yaml())) {
      std::error_code ec;
      std::filesystem::remove(env.path(m_path), ec);
      if (ec) {
        return common::fail(Errc::io, "removing '{}': {}", m_path, ec.message());
      }
      return Outcome::changed;
    }
    return Outcome::unchanged;
  }

 private:
  std::string_view m_id;
  std::string_view m_path;
  mode_t m_mode;
  Render m_render;
  std::string m_what;
};

std::string config(const Env& env) { return render_k3s_config(env); }
std::string kubelet(const Env& env) { return render_kubelet_conf(size_machine(env.facts, env.member)); }
std::string registries(const Env& env) { return render_registries(env.member); }
std::string plan(const Env& env) {
  // An image built with k3s.upgrade (the default) brings the controller, its CRD and the Plan;
  // a second Plan of the same name would fight it. Without them this Plan alone never applies
  // (no CRD, no namespace): metadata k3s.auto_upgrade only matters for images built without.
  std::error_code ec;
  bool baked = std::filesystem::exists(env.path(k_baked_plan_path), ec);
  bool wanted = env.member.k3s.auto_upgrade && env.member.node.role == NodeRole::server && !baked;
  return wanted ? std::string(upgrade_plan_yaml()) : std::string();
}

}  // namespace

std::unique_ptr<Step> make_config_step() {
  return std::make_unique<FileStep>("k3s:config", k_config_path, 0600, &config, "the k3s config");
}
std::unique_ptr<Step> make_kubelet_step() {
  return std::make_unique<FileStep>("k3s:kubelet", k_kubelet_path, 0644, &kubelet, "the kubelet drop-in");
}
std::unique_ptr<Step> make_registries_step() {
  return std::make_unique<FileStep>("k3s:registries", k_registries_path, 0600, &registries,
                                    "registry mirrors");
}
std::unique_ptr<Step> make_upgrade_plan_step() {
  return std::make_unique<FileStep>("k3s:upgrade-plan", k_plan_path, 0644, &plan, "the k3s upgrade plan");
}

}  // namespace binder::firstboot::k3s
