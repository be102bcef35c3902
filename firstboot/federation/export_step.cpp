// export:files: what operators and the central mybinder.org deploy need to take the member over,
// written 0600 under /var/lib/binder-firstboot/export/ (they hold the cluster admin key and the
// member's secrets):
//   <cluster>-kubeconfig.yaml     k3s.yaml rewritten as mybinder's fetch_k3s_kubeconfig.py does
//   config/<cluster>.yaml         federation mode: mybinder.org-deploy member config
//   secrets/config/<cluster>.yaml federation mode: its secrets file (git-crypt in the central repo)
//   summary.txt                   hostnames, registry, robots and the files above (no secrets)
// The summary is also logged and journaled (output "export.summary") for `binder-firstboot status`.
#include "common/fs.hpp"
#include "common/log.hpp"
#include "firstboot/federation/context.hpp"
#include "firstboot/render/api_requests.hpp"
#include "firstboot/render/artifacts.hpp"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/kubeconfig.hpp"
#include "firstboot/render/mybinder_files.hpp"

namespace binder::firstboot::federation {

namespace fs = common::fs;
namespace log = common::log;

namespace {

// Writes `text` 0600 unless the file already holds exactly it; true when written.
Result<bool> write_if_changed(const std::filesystem::path& path, const std::string& text) {
  TRY_ASSIGN(auto old, fs::read_file_if_exists(path));
  if (old && *old == text)
    return false;
  TRY(fs::write_file_atomic(path, text, 0600));
  return true;
}

class ExportStep : public Step {
 public:
  explicit ExportStep(FederationOptions o) : m_options(std::move(o)) {}
  std::string_view id() const override { return "export:files"; }
  std::string describe(const Env& env) const override {
    return fmt::format("write the kubeconfig{} and a summary to {}",
                       env.member.mode == Mode::federation ? ", mybinder config and secrets files" : "",
                       k_export_dir);
  }
  std::string fingerprint(const Env& env) const override {
    return fingerprint_of({"v1", env.member.cluster(), render::public_ip_of(env.member, env.facts),
                           to_string(env.member.mode)});
  }
  Result<Outcome> apply(Env& env) override {
    const Member& m = env.member;
    auto dir = env.path(k_export_dir);
    TRY(fs::make_directories(dir, 0700));
    TRY_ASSIGN(std::string ip, public_ip(env));
    std::vector<std::string> files;
    bool changed = false;

    TRY_ASSIGN(std::string k3s, fs::read_file(env.path(m_options.kubeconfig)));
    TRY_ASSIGN(std::string kubeconfig, render::rewrite_kubeconfig_yaml(k3s, m.cluster(), ip));
    std::string kc_name = m.cluster() + "-kubeconfig.yaml";
    TRY_ASSIGN(bool w, write_if_changed(dir / kc_name, kubeconfig));
    changed |= w;
    files.push_back(kc_name);

    if (m.mode == Mode::federation) {
      // The very texts the mybinder:chart step deployed (one function makes both).
      TRY_ASSIGN(auto release, mybinder_release(env));
      for (const auto& [rel, text] : {std::pair{release.config_path, release.config_text},
                                      std::pair{release.secrets_path, release.secrets_text}}) {
        TRY(fs::make_directories((dir / rel).parent_path(), 0700));
        TRY_ASSIGN(bool f, write_if_changed(dir / rel, text));
        changed |= f;
        files.push_back(rel);
      }
    }

    // registry.kind external: the operator's registry and user, no Harbor robots.
    std::string registry_lines =
        runs_harbor(m)
            ? fmt::format(
                  "  registry:   https://{} (project '{}', {})\n  robots:     {} (push+pull), {} (pull)\n",
                  render::registry_host(m), render::registry_project(m),
                  m.registry ? to_string(m.registry->kind) : "harbor",
                  render::robot_full_name(m, render::builder_robot_name(m)),
                  render::robot_full_name(m, render::puller_robot_name(m)))
            : fmt::format("  registry:   {} (external, user '{}', images {}*)\n", m.registry->url,
                          m.registry->username, render::image_prefix(m));
    std::string summary = fmt::format(
        "member '{}' ({} mode)\n"
        "  BinderHub:  https://{}\n  JupyterHub: https://{}\n{}"
        "  public IP:  {}\n  files in {}:\n",
        m.name, to_string(m.mode), render::binder_host(m), render::hub_host(m), registry_lines, ip,
        k_export_dir);
    for (const auto& f : files)
      summary += "    " + f + "\n";
    TRY_ASSIGN(bool s, write_if_changed(dir / "summary.txt", summary));
    changed |= s;
    if (env.output("export.summary") != summary) {
      TRY(env.put_output("export.summary", summary));
    }
    for (size_t b = 0, e; b < summary.size(); b = e + 1) {
      e = summary.find('\n', b);
      log::notice("{}", summary.substr(b, e - b));
    }
    return changed ? Outcome::changed : Outcome::unchanged;
  }

 private:
  FederationOptions m_options;
};

}  // namespace

std::unique_ptr<Step> make_export_step(const FederationOptions& o) { return std::make_unique<ExportStep>(o); }

}  // namespace binder::firstboot::federation
