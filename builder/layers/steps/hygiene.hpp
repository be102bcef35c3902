// Image hygiene: what makes an image safe to clone. One table of rules (hygiene_rules()) is
// rendered twice: hygiene_script() runs inside the last appliance session (the system layer's;
// the final layer's when it falls back to an appliance), host_hygiene() does the same on a
// filesystem opened on the host;
// image_checks() verifies the result read-only (the layer self-check and `binder-image
// inspect`), one named check per property. tree_hygiene() checks a file-only layer's tree, so a
// clean parent plus a clean tree is a clean image without running anything.
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

// The "/var/log small" check's bound: bytes in regular files under /var/log. Hygiene truncates
// every log, so a clean image has about 0; an overlay may add a few small files.
inline constexpr std::uint64_t k_var_log_limit = 1u << 20;

// Marker for normalize_times_script(): created at the start of an appliance session.
inline constexpr const char* k_session_marker = "/.binder-session-start";

// Run last in an appliance session that began with `touch k_session_marker`: every file,
// directory and symlink the session changed (directories that gained or lost entries, truncated
// logs, files the hygiene recreated) gets mtime/atime `epoch`, so the file tree does not depend
// on when it was built; then the marker is removed.
std::string normalize_times_script(std::int64_t epoch);

struct CheckResult {
  std::string name;  // "machine-id empty"
  bool ok = false;
  std::string detail;  // why it failed, or what was found
};

// Read-only checks of a mounted image, one named check each: machine-id empty, no dbus
// machine-id, no SSH host keys, no k3s server state or token, no cloud-init instance state, no
// core files, /var/log small (k_var_log_limit), no shell history, resolv.conf ok, k3s import
// cache empty, binder-firstboot installed and enabled, k3s not enabled. Errors only when the
// guest can't be read.
common::Result<std::vector<CheckResult>> image_checks(image::Guest& guest);
// Errc::internal naming the first failed check; the binder-firstboot check is skipped unless
// `firstboot` (it belongs to the final layer, and only when firstboot is enabled).
common::Result<void> fail_on_checks(const std::vector<CheckResult>& checks, bool firstboot);
// The same checks on a filesystem opened on the host.
common::Result<std::vector<CheckResult>> image_checks(const image::Ext4Fs& fs);

// Paths in a file tree (image::TarBuilder entry paths, relative) that would make a clean image
// unclean: a non-empty etc/machine-id, var/lib/dbus/machine-id, SSH host keys, k3s server state
// or node password, cloud-init state, shell histories, an enabled k3s.service. Empty = clean.
std::vector<std::string> tree_hygiene(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace binder::layers::steps
