// `binder-firstboot status [--json]` and `plan`: reports without changing anything.
//   status: from the journal (read-only) and the completion marker: per step its last state,
//           the current step (begun, not ended), the last error, the export summary, the
//           timeline (timeline.hpp).
//   plan:   loads the metadata and machine facts and lists every step with what it would do
//           and whether the journal already has it done with the same fingerprint.
#pragma once

#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "firstboot/app/agent.hpp"

namespace binder::firstboot::app {

// The status document (also what --json prints and phone home posts): its schema is
// firstboot/status.schema.json; k_status_version changes only when a key changes meaning or goes.
inline constexpr int k_status_version = 1;
// The status document (also what --json prints).
common::Result<nlohmann::json> collect_status(const std::filesystem::path& root);
std::string format_status(const nlohmann::json& status);

// Prints the plan to stdout; returns the exit code.
int plan_main(const AgentOptions& options, CommandRunner& runner, bool json_output);

}  // namespace binder::firstboot::app
