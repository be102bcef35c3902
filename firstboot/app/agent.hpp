// The agent: `binder-firstboot run` as one top-down function (mkosi's build_image, mold's main):
// lock, metadata, machine facts, journal, steps (host, k3s, then the federation join on a server
// node), completion marker. The step order is in steps.hpp.
#pragma once

#include "firstboot/app/options.hpp"
#include "firstboot/app/steps.hpp"
#include "firstboot/env.hpp"

namespace binder::firstboot::app {

// Runs the agent; returns the exit code (0 done, 1 failed, 2 bad metadata, 75 temporary, 70
// internal). Errors are logged and journaled.
int run_agent(const AgentOptions& options, CommandRunner& runner, Clock& clock);

}  // namespace binder::firstboot::app
