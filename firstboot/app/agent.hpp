// The agent: `binder-firstboot run` as one top-down function (mkosi's build_image, mold's main):
// lock, metadata, machine facts, journal, steps (host, k3s, then the federation join on a server
// node), completion marker. Also the step composition `plan` and `status` use.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "firstboot/env.hpp"
#include "firstboot/k3s/k3s_steps.hpp"
#include "firstboot/step.hpp"

namespace binder::firstboot::app {

struct AgentOptions {
  std::filesystem::path root = "/";
  std::optional<std::filesystem::path> metadata_file;  // --metadata (testing): the only source
  k3s::ReadyOptions ready;
  bool federation = true;  // false: host and k3s steps only (tests)
  // Set by run_agent after `binder-firstboot handover`: the federation steps are not run, but a
  // federation member follows its way into the redirector's rotation (step in-rotation).
  bool handed_over = false;
};

// Every step for this member, in order.
StepList make_all_steps(const Member& member, const AgentOptions& options);
// Their ids without a Member (server role): for `status` before metadata was ever read.
std::vector<std::string> all_step_ids(NodeRole role, bool federation = true, Mode mode = Mode::federation);

// Runs the agent; returns the exit code (0 done, 1 failed, 2 bad metadata, 75 temporary, 70
// internal). Errors are logged and journaled.
int run_agent(const AgentOptions& options, CommandRunner& runner, Clock& clock);

}  // namespace binder::firstboot::app
