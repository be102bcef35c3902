// Steps k3s:service and k3s:ready. See k3s_steps.hpp.
#include <algorithm>
#include <filesystem>

#include "common/fs.hpp"
#include "common/hash.hpp"
#include "common/log.hpp"
#include "firstboot/host/files.hpp"
#include "firstboot/k3s/k3s_files.hpp"
#include "firstboot/k3s/k3s_steps.hpp"
#include "firstboot/k3s/kube_client.hpp"

namespace binder::firstboot::k3s {
namespace {

constexpr std::string_view k_agent_unit = "/etc/systemd/system/k3s-agent.service";
constexpr std::string_view k_digest_key = "k3s.files_digest";

std::string unit(const Env& env) {
  return env.member.node.role == NodeRole::server ? "k3s.service" : "k3s-agent.service";
}

// What k3s reads at start: a change means a restart.
std::string files_digest(const Env& env) {
  common::hash::Transcript t;
  for (auto p : {k_config_path, k_kubelet_path, k_registries_path}) {
    auto c = common::fs::read_file_if_exists(env.path(p));
    t.add(p, c && *c ? **c : std::string("-"));
  }
  return t.digest();
}

constexpr std::string_view k_agent_unit_text =
    "# Written by binder-firstboot (node.role: agent).\n"
    "[Unit]\nDescription=Lightweight Kubernetes (agent)\nWants=network-online.target\n"
    "After=network-online.target\n\n"
    "[Service]\nType=notify\nKillMode=process\nDelegate=yes\nLimitNOFILE=1048576\n"
    "LimitNPROC=infinity\nLimitCORE=infinity\nTasksMax=infinity\nTimeoutStartSec=0\n"
    "Restart=always\nRestartSec=5s\nExecStartPre=-/sbin/modprobe br_netfilter\n"
    "ExecStartPre=-/sbin/modprobe overlay\nExecStart=/usr/local/bin/k3s agent\n\n"
    "[Install]\nWantedBy=multi-user.target\n";

class ServiceStep : public Step {
 public:
  std::string_view id() const override { return "k3s:service"; }
  std::string describe(const Env& env) const override {
    return fmt::format("enable and start {}", unit(env));
  }
  std::string fingerprint(const Env& env) const override {
    return fingerprint_of({unit(env), files_digest(env)});
  }
  Result<Outcome> apply(Env& env) override {
    Outcome out = Outcome::unchanged;
    if (env.member.node.role == NodeRole::agent &&
        !std::filesystem::exists(env.path("/etc/systemd/system/k3s-agent.service"))) {
      TRY_ASSIGN(out, host::ensure_file(env, k_agent_unit, k_agent_unit_text, 0644));
      if (env.live()) {
        TRY(env.runner.run_checked({"systemctl", "daemon-reload"}));
      }
    }
    std::string digest = files_digest(env);
    if (!env.live()) {
      common::log::info("not live: {} would be enabled and started", unit(env));
      return out;
    }
    TRY_ASSIGN(auto enabled, env.runner.run({"systemctl", "is-enabled", "--quiet", unit(env)}));
    TRY_ASSIGN(auto active, env.runner.run({"systemctl", "is-active", "--quiet", unit(env)}));
    // Record the digest before acting on it: a crash after the restart must not restart again.
    auto started_with = env.output(k_digest_key);
    if (started_with != digest) {
      TRY(env.put_output(k_digest_key, digest));
    }
    if (enabled.exit_code != 0 || active.exit_code != 0) {
      TRY(env.runner.run_checked({"systemctl", "enable", "--now", unit(env)},
                                 {.timeout = std::chrono::minutes(5)}));
      return Outcome::changed;
    }
    if (started_with && *started_with != digest) {
      common::log::info("k3s files changed since {} started, restarting", unit(env));
      TRY(env.runner.run_checked({"systemctl", "restart", unit(env)}, {.timeout = std::chrono::minutes(5)}));
      return Outcome::changed;
    }
    return out;
  }
};

class ReadyStep : public Step {
 public:
  explicit ReadyStep(ReadyOptions o) : m_options(o) {}
  std::string_view id() const override { return "k3s:ready"; }
  std::string describe(const Env& env) const override {
    return env.member.node.role == NodeRole::server
               ? fmt::format("wait for the Kubernetes API and node '{}' Ready", node_name(env))
               : fmt::format("wait for {} to be active", unit(env));
  }
  std::string fingerprint(const Env& env) const override {
    return fingerprint_of({unit(env), node_name(env)});
  }
  Result<Outcome> apply(Env& env) override {
    auto kubeconfig = env.path(k_kubeconfig_path);
    if (env.member.node.role == NodeRole::agent) {
      if (env.live()) {
        TRY(KubeClient::wait_until(
            env.clock, unit(env) + " active", m_options.timeout, m_options.interval, [&]() -> Result<bool> {
              TRY_ASSIGN(auto r, env.runner.run({"systemctl", "is-active", "--quiet", unit(env)}));
              return r.exit_code == 0;
            }));
      }
      return Outcome::unchanged;
    }
    if (!env.live() && !std::filesystem::exists(kubeconfig)) {
      common::log::info("not live and no '{}': skipping the readiness wait", kubeconfig.string());
      return Outcome::unchanged;
    }
    TRY(KubeClient::wait_until(env.clock, "the k3s admin kubeconfig", m_options.timeout, m_options.interval,
                               [&]() -> Result<bool> { return std::filesystem::exists(kubeconfig); }));
    TRY_ASSIGN(KubeConfig cfg, load_kubeconfig(kubeconfig));
    common::log::add_secret(cfg.client_key_pem);
    common::http::Options http;
    http.request_timeout = m_options.request_timeout;
    http.connect_timeout = std::min(m_options.request_timeout, std::chrono::milliseconds(5000));
    http.max_attempts = m_options.max_attempts;
    KubeClient kube(cfg, http);
    TRY(KubeClient::wait_until(env.clock, "the Kubernetes API (/readyz)", m_options.timeout,
                               m_options.interval, [&] { return kube.api_ready(); }));
    std::string node = node_name(env);
    TRY(KubeClient::wait_until(env.clock, fmt::format("node '{}' Ready", node), m_options.timeout,
                               m_options.interval, [&] { return kube.node_ready(node); }));
    common::log::info("node '{}' is Ready", node);
    return Outcome::unchanged;
  }

 private:
  ReadyOptions m_options;
};

}  // namespace

std::unique_ptr<Step> make_service_step() { return std::make_unique<ServiceStep>(); }
std::unique_ptr<Step> make_ready_step(ReadyOptions options) { return std::make_unique<ReadyStep>(options); }

}  // namespace binder::firstboot::k3s
