// Accelerator choice for every QEMU we start (libguestfs appliances, boot tests): KVM when a guest
// really runs under it, TCG otherwise. "auto" never trusts /dev/kvm alone: on some hosts the
// device opens but guests hang, so it boots a 512-byte probe guest under KVM with a hard deadline
// and falls back to TCG with one clear reason line. The auto decision is cached for the process.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace binder::base {

using common::Result;

enum class AccelMode { auto_, kvm, tcg };

struct Accel {
  bool kvm = false;
  std::string qemu_arg = "tcg";  // value for `qemu-system-x86_64 -accel <qemu_arg>`: "kvm" or "tcg"
  std::string reason;            // one line: why this accelerator was chosen
};

// "auto" | "kvm" | "tcg" -> AccelMode; anything else is an Errc::usage error naming the value and
// the choices.
Result<AccelMode> parse_accel_mode(std::string_view text);
std::string_view to_string(AccelMode mode);

// tcg: always TCG (no probe). kvm: probes KVM and fails (Errc::precondition, with the probe's
// reason) if a guest does not run under it. auto: TCG if LIBGUESTFS_BACKEND_SETTINGS already has
// force_tcg (the user's explicit choice) or /dev/kvm is absent or cannot be opened,
// otherwise the probe decides; any probe failure or timeout gives TCG. Never blocks much longer
// than `deadline` (the probe QEMU's process group is killed then). auto/kvm results are cached
// for the process (per mode); the reason is logged once at info level.
Result<Accel> choose_accel(AccelMode mode,
                           std::chrono::milliseconds deadline = std::chrono::milliseconds{8000});

// The outcome of one probe run (exposed for tests and `--accel kvm` diagnostics).
struct ProbeResult {
  bool ran = false;    // the guest executed and reported back through isa-debug-exit
  std::string detail;  // "guest ran in 0.4s" / "timed out after 8s" / "exit status 1: ..."
};
// Boots the probe guest once under `qemu_accel` ("kvm" or "tcg"), uncached. Errors only if the
// probe could not be set up (no qemu-system-x86_64, temp file); a guest that fails is ran=false.
Result<ProbeResult> run_accel_probe(std::string_view qemu_accel, std::chrono::milliseconds deadline);

// Environment for libguestfs under `accel`: {LIBGUESTFS_BACKEND_SETTINGS=force_tcg} for TCG,
// empty for KVM.
std::map<std::string, std::string> guestfs_env(const Accel& accel);

}  // namespace binder::base
