// Readiness proved end to end (issue 12), from the VM over real HTTPS through the member's public
// names, as a visitor and the federation redirector see the member:
//   readiness    after the deploy, in order (the first failing check is the cause):
//                  binder     https://<binder host>/health 200 (BinderHub's checks all ok), with a
//                             certificate that verifies (the ACME one; system trust store)
//                  hub        https://hub.<binder host>/hub/health 200 (JupyterHub's health)
//                  registry   Harbor kinds: https://<registry host>/api/v2.0/ping 200;
//                             external: <registry.url>/v2/ 200 or 401 (the registry answers)
//                  versions   federation mode: https://<binder host>/versions equal to the prime's
//                             (readiness.prime_versions_url; the redirector drops members whose
//                             versions differ)
//                  launch     optional (readiness.test_launch): BinderHub's /build event stream
//                             for that spec ends in phase "ready"
//                Rounds repeat every poll interval until all pass or readiness.timeout_minutes
//                is over (DNS propagation and ACME take minutes). Then the step fails with the
//                last cause in one line, "... (still failing after 30 min)": Errc::temporary
//                (exit 75, systemd retries) for certificates, HTTP statuses and the network;
//                Errc::precondition (exit 1) for versions that differ from the prime's and a
//                test launch that failed. Changes nothing: "unchanged" on success, with the time
//                journaled as readiness.ready_at.
//   in-rotation  federation mode, after `binder-firstboot handover`: polls the redirector's
//                /active_hosts (readiness.active_hosts_url, read-only) until the member appears
//                (by cluster name, or by its https://<binder host> URL). Not listed within
//                readiness.rotation_timeout_minutes is a warning (the federation operators
//                decide when it joins), recorded as rotation.status; the step still completes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "firstboot/clients/https_probe.hpp"
#include "firstboot/federation/options.hpp"
#include "firstboot/metadata/member.hpp"
#include "firstboot/step.hpp"

namespace binder::firstboot::federation {

inline constexpr std::string_view k_readiness_step = "readiness";
inline constexpr std::string_view k_in_rotation_step = "in-rotation";
inline constexpr std::string_view k_ready_at_key = "readiness.ready_at";
inline constexpr std::string_view k_rotation_status_key = "rotation.status";

struct ReadinessCheck {
  std::string name;  // binder, hub, registry, versions
  std::string url;
};

// The checks of this member, in order (launch not included).
std::vector<ReadinessCheck> readiness_checks(const Member& member);

// One round of every check. nullopt: all passed. Else the first failure.
struct ReadinessFailure {
  std::string cause;       // one line: "https://x/health: HTTP 503"
  bool permanent = false;  // versions differ (waiting does not help)
};
std::optional<ReadinessFailure> readiness_round(const Member& member, clients::HttpsProbe& probe);

// "versions differ from prime <url>: binderhub a != b"; empty when equal.
std::string versions_difference(const nlohmann::json& ours, const nlohmann::json& prime,
                                const std::string& prime_url);

// The test launch: GET /build/<spec> and read its events. nullopt: phase "ready" reached.
std::optional<ReadinessFailure> test_launch(const Member& member, clients::HttpsProbe& probe,
                                            std::chrono::milliseconds timeout);

// True when the redirector's /active_hosts document lists the member.
bool listed_in_active_hosts(const nlohmann::json& doc, const Member& member);

std::unique_ptr<Step> make_readiness_step(const FederationOptions& options);
std::unique_ptr<Step> make_in_rotation_step(const FederationOptions& options);

}  // namespace binder::firstboot::federation
