// Image hygiene: what makes an image safe to clone. hygiene_script() is run inside the final
// layer's session; image_checks() verifies the result read-only (final layer self-check and
// `binder-image inspect`), one named check per property.
#pragma once

#include <string>
#include <vector>

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

struct CheckResult {
  std::string name;    // "machine-id empty"
  bool ok = false;
  std::string detail;  // why it failed, or what was found
};

// Read-only checks of a mounted image (hygiene + units: binder-firstboot enabled, k3s installed
// but not enabled). Errors only when the guest can't be read.
common::Result<std::vector<CheckResult>> image_checks(image::Guest& guest);

}  // namespace binder::layers::steps
