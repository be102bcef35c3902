// The firstboot order. See steps.hpp.
#include "firstboot/app/steps.hpp"

#include "firstboot/federation/readiness.hpp"
#include "firstboot/federation/steps.hpp"
#include "firstboot/host/host_steps.hpp"
#include "firstboot/k3s/k3s_steps.hpp"

namespace binder::firstboot::app {

namespace fed = federation;

StepList firstboot_steps(const Member& member, const AgentOptions& options) {
  const fed::FederationOptions& o = options.join;
  StepList s;
  // host: every node
  s.push_back(host::make_hostname_step());
  s.push_back(host::make_ssh_keys_step());
  s.push_back(host::make_ntp_step());
  s.push_back(host::make_sysctl_step());
  s.push_back(host::make_extra_disk_step());
  // k3s: every node (an agent node joins the server's cluster)
  s.push_back(k3s::make_config_step());
  s.push_back(k3s::make_kubelet_step());
  s.push_back(k3s::make_registries_step());
  s.push_back(k3s::make_upgrade_plan_step());
  s.push_back(k3s::make_service_step());
  s.push_back(k3s::make_ready_step(options.ready));
  // The join runs once per member, on its server; agent nodes only add capacity. After
  // `handover` central CD owns the releases and the agent sets options.federation = false.
  if (member.node.role != NodeRole::server) {
    return s;
  }
  // After handover: only follow the member into the redirector's rotation (read-only).
  if (!options.federation) {
    if (options.handed_over && member.mode == Mode::federation) {
      s.push_back(fed::make_in_rotation_step(o));
    }
    return s;
  }
  // dns/secrets/s3: before any chart (Harbor needs its bucket and secrets)
  s.push_back(fed::make_dns_step(o));
  s.push_back(fed::make_secrets_step(o));
  s.push_back(fed::make_s3_step(o));
  // charts
  if (member.mode == Mode::federation) {
    s.push_back(fed::make_image_cert_manager_step(o));
    s.push_back(fed::make_mybinder_step(o));  // BinderHub + the chart's own Harbor
    s.push_back(fed::make_harbor_api_step(o));
  } else {
    s.push_back(fed::make_cert_manager_step(o));
    s.push_back(fed::make_traefik_step(o));
    s.push_back(fed::make_harbor_chart_step(o));
    s.push_back(fed::make_harbor_api_step(o));
    s.push_back(fed::make_binderhub_step(o));
  }
  // readiness: HTTPS through the public names (health, hub, registry, /versions = the prime's)
  s.push_back(fed::make_readiness_step(o));
  // export: the files central CD and the operators need
  s.push_back(fed::make_export_step(o));
  return s;
}

std::vector<std::string> firstboot_step_ids(NodeRole role, Mode mode, bool join) {
  Member m;
  m.node.role = role;
  m.mode = mode;
  AgentOptions o;
  o.federation = join;
  std::vector<std::string> ids;
  for (const auto& s : firstboot_steps(m, o)) {
    ids.emplace_back(s->id());
  }
  return ids;
}

}  // namespace binder::firstboot::app
