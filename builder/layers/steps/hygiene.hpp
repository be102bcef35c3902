// Image hygiene: what makes an image safe to clone. hygiene_script() is run inside the last
// appliance session (the system layer's; the final layer's when it falls back to an appliance);
// image_checks() verifies the result read-only (the layer self-check and `binder-image
// inspect`), one named check per property. tree_hygiene() checks a file-only layer's tree, so a
// clean parent plus a clean tree is a clean image without running anything.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image/ext4.hpp"
#include "image/guestfs.hpp"

namespace binder::layers::steps {

// Shell script (run with image::Guest::run_checked): empty /etc/machine-id, no
// /var/lib/dbus/machine-id, no SSH host keys, cloud-init state and logs removed, logs under
// /var/log truncated (rotated ones deleted, journal emptied), apt lists and shell histories
// removed, k3s server state and tokens absent (the traefik.yaml.skip manifest stays), random
// seed removed, /etc/resolv.conf a symlink to ../run/systemd/resolve/stub-resolv.conf when
// systemd-resolved is installed, else kept (an empty file if it is missing or dangling into
// resolved).
std::string hygiene_script();

// Marker for normalize_times_script(): created at the start of an appliance session.
inline constexpr const char* k_session_marker = "/.binder-session-start";

// Run last in an appliance session that began with `touch k_session_marker`: every file,
// directory and symlink the session changed (directories that gained or lost entries, truncated
// logs, files the hygiene recreated) gets mtime/atime `epoch`, so the file tree does not depend
// on when it was built; then the marker is removed.
std::string normalize_times_script(std::int64_t epoch);

struct CheckResult {
  std::string name;    // "machine-id empty"
  bool ok = false;
  std::string detail;  // why it failed, or what was found
};

// Read-only checks of a mounted image (hygiene + units: binder-firstboot enabled, k3s installed
// but not enabled). Errors only when the guest can't be read.
common::Result<std::vector<CheckResult>> image_checks(image::Guest& guest);
// Errc::internal naming the first failed check; the binder-firstboot check is skipped unless
// `firstboot` (it belongs to the final layer, and only when firstboot is enabled).
common::Result<void> fail_on_checks(const std::vector<CheckResult>& checks, bool firstboot);
// The same checks on a filesystem opened on the host.
common::Result<std::vector<CheckResult>> image_checks(const image::Ext4Fs& fs);

// hygiene_script() done on the host, with libext2fs: the same removals, truncations and
// resolv.conf rule. Times of what it changes are the filesystem's set_time().
common::Result<void> host_hygiene(image::Ext4Fs& fs);

// Paths in a file tree (image::TarBuilder entry paths, relative) that would make a clean image
// unclean: a non-empty etc/machine-id, var/lib/dbus/machine-id, SSH host keys, k3s server state
// or node password, cloud-init state, shell histories, an enabled k3s.service. Empty = clean.
std::vector<std::string> tree_hygiene(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace binder::layers::steps
