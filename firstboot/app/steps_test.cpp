// The firstboot order (steps.hpp): every step in the documented order, per role and mode.
#include "firstboot/app/steps.hpp"

#include <catch2/catch.hpp>

using namespace binder::firstboot;

namespace {

const std::vector<std::string> k_host_k3s = {
    "host:hostname", "host:ssh-keys",  "host:ntp",         "host:sysctl", "host:extra-disk", "k3s:config",
    "k3s:kubelet",   "k3s:registries", "k3s:upgrade-plan", "k3s:service", "k3s:ready"};

std::vector<std::string> with(std::vector<std::string> tail) {
  std::vector<std::string> out = k_host_k3s;
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

}  // namespace

TEST_CASE("steps: every step in the documented order, per role and mode", "[steps]") {
  CHECK(app::firstboot_step_ids(NodeRole::server, Mode::federation) ==
        with({"dns:records", "secrets:generate", "s3:lifecycle", "ingress:cert-manager", "mybinder:chart",
              "harbor:api", "readiness", "export:files"}));
  CHECK(app::firstboot_step_ids(NodeRole::server, Mode::standalone) ==
        with({"dns:records", "secrets:generate", "s3:lifecycle", "ingress:cert-manager", "ingress:traefik",
              "harbor:chart", "harbor:api", "binderhub:chart", "readiness", "export:files"}));
  // Agent nodes and a handed-over member (join = false): host and k3s only.
  CHECK(app::firstboot_step_ids(NodeRole::agent, Mode::federation) == k_host_k3s);
  CHECK(app::firstboot_step_ids(NodeRole::server, Mode::federation, false) == k_host_k3s);
}

TEST_CASE("steps: after handover a federation server only follows itself into rotation", "[steps]") {
  Member m;
  m.mode = Mode::federation;
  app::AgentOptions o;
  o.federation = false;
  o.handed_over = true;
  std::vector<std::string> ids;
  for (const auto& s : app::firstboot_steps(m, o))
    ids.emplace_back(s->id());
  CHECK(ids == with({"in-rotation"}));
  m.mode = Mode::standalone;  // standalone members are in no rotation
  ids.clear();
  for (const auto& s : app::firstboot_steps(m, o))
    ids.emplace_back(s->id());
  CHECK(ids == k_host_k3s);
}

TEST_CASE("steps: the list the agent runs is the list status shows", "[steps]") {
  Member m;
  m.mode = Mode::standalone;
  app::AgentOptions o;
  std::vector<std::string> ids;
  for (const auto& s : app::firstboot_steps(m, o))
    ids.emplace_back(s->id());
  CHECK(ids == app::firstboot_step_ids(NodeRole::server, Mode::standalone));
}
