// What `binder-firstboot run` and `plan` are told by the command line (and, for the vendor API
// endpoints, by the environment, read once by the CLI): the root, the metadata source, the waits,
// the federation join's settings, where the status is reported. Steps are built from these and
// the member alone.
#pragma once

#include <filesystem>
#include <optional>

#include "firstboot/app/reporter.hpp"
#include "firstboot/federation/options.hpp"
#include "firstboot/k3s/k3s_steps.hpp"

namespace binder::firstboot::app {

struct AgentOptions {
  std::filesystem::path root = "/";
  std::optional<std::filesystem::path> metadata_file;  // --metadata (testing): the only source
  k3s::ReadyOptions ready;
  bool federation = true;  // false: host and k3s steps only (tests; after handover)
  // Set by run_agent after `binder-firstboot handover`: the join is not run again, but a
  // federation member follows its way into the redirector's rotation (step in-rotation).
  bool handed_over = false;
  // Endpoints, CA and waits of the join steps (the CLI fills them from the environment:
  // federation::options_from_environment()).
  federation::FederationOptions join;
  // The console status block and phone home (the CLI turns the console on for the live system).
  ReporterOptions report;
};

}  // namespace binder::firstboot::app
