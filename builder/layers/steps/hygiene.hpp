// Image hygiene: what makes an image safe to clone. One table of rules (hygiene_rules()) is
// rendered twice: hygiene_script() runs inside the last appliance session (the system layer's;
// the final layer's when it falls back to an appliance), host_hygiene() does the same on a
// filesystem opened on the host. hygiene_checks.hpp verifies the result.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image/ext4.hpp"
#include "image/guestfs.hpp"

namespace binder::layers::steps {

// What happens to a hygiene rule's path.
enum class HygieneAction {
  empty_file,   // truncated to 0 bytes; made a new empty file (mode 0444) if not a regular file
  remove,       // every match removed, directories with their contents
  empty_dir,    // everything inside removed (dotfiles too), the directory itself kept
  clean_logs,   // below the directory: rotated logs (k_rotated_logs) deleted, other files truncated
  make_dir,     // created (mode 0755) when its parent directory exists
  resolv_conf,  // a symlink to ../run/systemd/resolve/stub-resolv.conf when systemd-resolved is
                // installed; else kept, or an empty file when missing or dangling into resolved
};

struct HygieneRule {
  std::string_view path;  // absolute; `remove` rows may use '*' within components (not
                          // matching a leading '.', like the shell and fnmatch FNM_PERIOD)
  HygieneAction action;
  std::string_view reason;  // why a clone must not carry it
};

// The cleanup rules, in the order they are applied. Both renderings below come from this table.
const std::vector<HygieneRule>& hygiene_rules();

// Names of rotated logs (fnmatch) that `clean_logs` deletes.
inline constexpr std::array<const char*, 4> k_rotated_logs = {"*.gz", "*.xz", "*.[0-9]", "*.old"};

// hygiene_rules() as a shell script (run with image::Guest::run_checked, `set -e`). `root`
// prefixes every path (a directory on the host for tests; "" in the appliance). In /tmp the
// session's own command files (/tmp/.binder-cmd.*, removed by run_checked) are kept.
std::string hygiene_script(std::string_view root = "");

// hygiene_rules() done on the host, with libext2fs: the same removals, truncations and
// resolv.conf rule. Times of what it changes are the filesystem's set_time().
common::Result<void> host_hygiene(image::Ext4Fs& fs);

// Marker for normalize_times_script(): created at the start of an appliance session.
inline constexpr const char* k_session_marker = "/.binder-session-start";

// Run last in an appliance session that began with `touch k_session_marker`: every file,
// directory and symlink the session changed (directories that gained or lost entries, truncated
// logs, files the hygiene recreated) gets mtime/atime `epoch`, so the file tree does not depend
// on when it was built; then the marker is removed.
std::string normalize_times_script(std::int64_t epoch);

}  // namespace binder::layers::steps
