// C++ handle on one fake vendor API server (tests/support/fakes/serve.py): starts it on
// 127.0.0.1 (or another bind address) with TLS from a TestPki, reads its ports, and offers the
// control API (state, violations, request log, faults, reset, config) as nlohmann::json.
// The process is stopped (SIGTERM, then SIGKILL) when the handle is destroyed. Test support
// code: failures throw std::runtime_error.
//
// What each fake checks and reproduces is described at the top of its Python module
// (cloudflare.py, harbor.py, harbor_robots.py, kube.py). Credentials: the constants below.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/test_ca.hpp"

namespace binder::test {

// charts: chart_repo.py; status: status_receiver.py (binder-firstboot's phone home);
// web: member_web.py (the member's and the federation's public sites)
enum class FakeKind { cloudflare, harbor, kube, charts, status, web };

inline constexpr const char* k_fake_cloudflare_token = "test-token";
inline constexpr const char* k_fake_kube_token = "test-token";
inline constexpr const char* k_fake_harbor_admin_password = "Harbor12345";
inline constexpr const char* k_fake_zone = "mybinder.org";
inline constexpr const char* k_fake_node_name = "binder-node";

struct FakeOptions {
  std::string bind = "127.0.0.1";
  int port = 0;                         // 0: any free port
  std::filesystem::path state_dir;      // empty: a temp dir removed with the handle
  std::vector<std::string> extra_args;  // e.g. {"--health-delay", "2", "--zone", "x.test"}
};

class FakeServer {
 public:
  FakeServer(FakeKind kind, const TestPki& pki, FakeOptions options = {});
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;
  ~FakeServer();

  FakeKind kind() const { return m_kind; }
  int port() const { return m_port; }
  int control_port() const { return m_control_port; }
  // https://127.0.0.1:<port> (no API prefix; the kube API and Harbor's registry host).
  std::string url() const;
  // url() + the vendor's API prefix: /client/v4 (Cloudflare), /api/v2.0 (Harbor), "" (kube),
  // /members/example/status (status: any path is accepted).
  std::string api_base() const;
  // The CA that signed the server certificate (what a client must trust).
  std::filesystem::path ca_path() const { return m_pki_dir / "ca.crt"; }
  const std::filesystem::path& state_dir() const { return m_state_dir; }
  pid_t pid() const { return m_pid; }

  // Control API (plain HTTP on control_port()).
  nlohmann::json state() const;
  nlohmann::json violations() const;
  nlohmann::json requests() const;
  // {"path": regex, "method"?: "POST", "status"?: 429|500|..., "retry_after"?: s,
  //  "delay_ms"?: n, "drop"?: true, "count"?: n (default 1, -1 = forever)}
  void inject_fault(const nlohmann::json& fault) const;
  void clear_faults() const;
  void reset() const;
  // Run-time settings, e.g. {"health_delay": 5} (Harbor) or {"ready_delay": 0.5} (kube).
  void configure(const nlohmann::json& settings) const;

  // kube only: writes a kubeconfig (CA + client certificate, embedded as *-data) for this server
  // and returns its path (in state_dir()). Context/cluster/user are named "default", as k3s does.
  std::filesystem::path write_kubeconfig() const;

  // Low-level: one request to the control port; returns the parsed JSON body, throws on non-2xx.
  nlohmann::json control(const std::string& method, const std::string& path,
                         const std::string& body = {}) const;

 private:
  FakeKind m_kind;
  std::filesystem::path m_pki_dir;
  std::filesystem::path m_state_dir;
  bool m_own_state_dir = false;
  std::string m_bind;
  pid_t m_pid = -1;
  int m_port = 0;
  int m_control_port = 0;
};

const char* to_string(FakeKind kind);

}  // namespace binder::test
