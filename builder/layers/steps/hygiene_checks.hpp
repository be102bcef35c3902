// Image hygiene verified, read-only: image_checks() (the layer self-check and `binder-image
// inspect`) gives one named check per property, on an appliance or on a filesystem opened on the
// host. tree_hygiene() checks a file-only layer's tree, so a clean parent plus a clean tree is a
// clean image without running anything. The cleanup itself is hygiene.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "image/ext4.hpp"
#include "image/guestfs.hpp"

namespace binder::layers::steps {

// The "/var/log small" check's bound: bytes in regular files under /var/log. Hygiene truncates
// every log, so a clean image has about 0; an overlay may add a few small files.
inline constexpr std::uint64_t k_var_log_limit = 1u << 20;

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
