// The status block a donor sees without SSH (issue 12): on the serial console, on tty1 and on the
// login screen (/etc/issue), refreshed at each step change while firstboot runs and left in place
// after it ends. At most k_console_max_lines lines of at most 80 columns, each starting with
// k_console_marker (the smoke boot greps the serial log for it):
//   binder-firstboot: == BinderHub member example.mybinder.org (federation) ==
//   binder-firstboot: binder   https://example.mybinder.org
//   binder-firstboot: hub      https://hub.example.mybinder.org
//   binder-firstboot: registry https://registry.example.mybinder.org
//   binder-firstboot: state    running mybinder:chart for 2m13.0s, 13/18 steps done
// or, when a step failed, in place of the state line:
//   binder-firstboot: state    failed at dns:records, 3/18 steps done
//   binder-firstboot: cause    Cloudflare: the API token lacks the permission
//   binder-firstboot:          Zone:DNS:Edit (#dns_records:edit) on this zone (Clou...
//   binder-firstboot: to fix   the token needs Zone:DNS:Edit on zone 'mybinder.org'
//   binder-firstboot: details  binder-firstboot status; journalctl -u binder-firstboot
// Never a secret: the block is built from non-secret fields only (names, URLs, step ids, times);
// the one free text (the failure's cause and hint) is scrubbed of every secret value the caller
// knows (member secrets, journaled secrets) and of those registered with the log.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/metadata/member.hpp"

namespace binder::firstboot::app {

inline constexpr std::string_view k_console_marker = "binder-firstboot: ";
inline constexpr std::size_t k_console_width = 80;
inline constexpr std::size_t k_console_max_lines = 10;

// `text` with every occurrence of a secret value (4 characters or more) and of the secrets
// registered with the log replaced by "<redacted>", and control characters by spaces (one line).
std::string without_secrets(std::string text, const std::vector<std::string>& secrets);
// The secret values the agent knows: the member's (when loaded) and the journaled ones
// (outputs "secrets.*": generated passwords, robot secrets).
std::vector<std::string> known_secrets(const Member* member, const Journal& journal);

// The non-secret facts the block shows.
struct ConsoleView {
  std::string fqdn;                                       // empty: metadata not loaded yet
  std::string mode;                                       // "federation" | "standalone"
  std::vector<std::pair<std::string, std::string>> urls;  // ("binder", "https://...")
  std::string state;                                      // "running" | "complete" | "failed" | "starting"
  std::string step;                                       // current (running) or failed step
  std::optional<double> elapsed_s;                        // of the current step
  int done = 0;
  int total = 0;
  std::string cause;  // failed: the error, one line (scrubbed)
  std::string hint;   // failed: what to do (scrubbed; may be empty)
};

// From the status document (status.hpp collect_status) and, when loaded, the member (URLs).
// `secrets`: values that must not appear (member.secrets(), journaled secrets).
ConsoleView console_view(const nlohmann::json& status, const Member* member,
                         const std::vector<std::string>& secrets, std::chrono::system_clock::time_point now);

// The block's lines (no newlines), each <= k_console_width columns, at most k_console_max_lines.
std::vector<std::string> render_console_block(const ConsoleView& view);

// Where the block goes (system paths; tests point them into a temp dir).
struct ConsoleTargets {
  // Written (appended, like a log) when they exist: the serial console and the first VT.
  std::vector<std::filesystem::path> terminals = {"/dev/console", "/dev/tty1"};
  // The login screen: a drop-in in issue_dir when that directory exists (agetty >= 2.35 reads
  // /etc/issue.d/*.issue), else the block's lines replace the marked lines of `issue` (every
  // line starting with k_console_marker), written atomically.
  std::filesystem::path issue_dir = "/etc/issue.d";
  std::filesystem::path issue = "/etc/issue";
  std::string dropin_name = "50-binder-firstboot.issue";
};

// Writes the block to every target; returns the first error after trying them all (callers log
// it and go on: the console never fails the boot).
common::Result<void> write_console_block(const std::vector<std::string>& lines,
                                         const ConsoleTargets& targets);

}  // namespace binder::firstboot::app
