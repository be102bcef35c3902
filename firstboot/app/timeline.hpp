// `binder-firstboot status --timeline [--json]`: when each stage of bringing the member up
// happened, from the journal alone, measured from power-on:
//   power-on        the first record that knows its time since power-on (journal v2 boot_ms):
//                   its wall time minus boot_ms; unknown (null) for a v1 journal
//   network online  systemd's network-online.target of the first boot, recorded by the agent
//                   (output boot.network_online_ms, record_boot())
//   each step       the agent's own steps, the runner's (steps.hpp) and any other step the
//                   journal holds (readiness, in-rotation, handover, ...): its last completion
//                   (done/adopted) and the begin before it; or its state (pending, running, failed)
//   milestones      after the step that reaches them (table in timeline.cpp): k3s ready, charts
//                   ready, HTTPS healthy (step `readiness`), in rotation (step `in-rotation`)
// Offsets ("at") and durations use boot_ms within the first boot (immune to the wall clock
// stepping at NTP sync) and wall-clock times across reboots (time powered off included).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "firstboot/env.hpp"
#include "firstboot/journal.hpp"

namespace binder::firstboot::app {

// {"power_on": "<UTC>"|null, "entries": [{"name", "kind": "event"|"step"|"milestone",
//  "state", "start", "end", "at_s", "duration_s"}...]} (unknown values null). `step_ids`: the
// steps to list in order (pending ones included).
nlohmann::json collect_timeline(const Journal& journal, const std::vector<std::string>& step_ids);
// One line per entry: "  +1m02.3s  k3s:ready           41.0s  done".
std::string format_timeline(const nlohmann::json& timeline);

// What the agent learns about the current boot (live only: read_boot_info()).
struct BootInfo {
  std::string id;                                 // /proc/sys/kernel/random/boot_id
  std::optional<std::int64_t> network_online_ms;  // network-online.target reached, since power-on
};
BootInfo read_boot_info(CommandRunner& runner);
// Journals boot.id (and boot.network_online_ms when known) once per boot: nothing when the
// journal's latest boot.id is this one.
Result<void> record_boot(Journal& journal, const BootInfo& boot);

// "+1m02.3s" / "41.0s" / "2h03m" (for durations and offsets in seconds).
std::string format_seconds(double s);

}  // namespace binder::firstboot::app
