// The firstboot order in one screen (DESIGN.md §6): every step binder-firstboot journals, in run
// order, with the conditions under which it runs. steps.cpp is the list; nothing else orders steps.
//   metadata, facts   the agent's own steps, run before the others: the member and the machine
//                     facts they produce build the Env every other step sees (agent.cpp)
//   host:*, k3s:*     every node
//   the join          once per member, on its server, until `handover`: DNS, secrets, S3, the
//                     charts (federation: the mybinder release; standalone: four charts), the
//                     Harbor API, readiness (HTTPS through the public names), the export
//   in-rotation       after `handover`, federation servers only: the redirector lists the member
//   handover          the `handover` verb (operators), journaled as a step; never run by `run`
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "firstboot/app/options.hpp"
#include "firstboot/metadata/member.hpp"
#include "firstboot/step.hpp"

namespace binder::firstboot::app {

// The agent's own steps, in order, before firstboot_steps().
inline constexpr std::string_view k_metadata_step = "metadata";
inline constexpr std::string_view k_facts_step = "facts";

// Every step the runner runs for this member, in order.
StepList firstboot_steps(const Member& member, const AgentOptions& options);

// The ids of firstboot_steps() for a node of this role and mode, without a Member (`status`
// before the metadata was ever read). join = false: host and k3s steps only.
std::vector<std::string> firstboot_step_ids(NodeRole role, Mode mode, bool join = true);

}  // namespace binder::firstboot::app
