// The standalone member the app tests run the agent and its verbs with (test-only).
#pragma once

namespace binder::firstboot::testing {

inline constexpr const char* k_standalone_member = R"(binder_member:
  name: example
  domain: mybinder.org
  mode: standalone
  public_ip: 203.0.113.7
  node: {extra_disk: none, ntp: [ntp.example.org]}
  operators: {ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1 team"]}
  k3s: {auto_upgrade: true}
)";

}  // namespace binder::firstboot::testing
