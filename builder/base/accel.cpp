// The accelerator probe, in two stages. First a boot sector that writes 0x2a to QEMU's
// isa-debug-exit port makes QEMU exit with status (0x2a << 1) | 1 = 85: a guest instruction
// stream really ran. Then, when a host kernel is readable, that kernel must boot under the same
// accelerator until it panics for want of a root fs: on this kind of host a boot sector runs under
// KVM while a Linux kernel hangs. /dev/kvm being openable proves nothing.
#include "base/accel.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"

namespace binder::base {

namespace {

using common::Errc;
using common::fail;
namespace exec = common::exec;
namespace cfs = common::fs;
namespace stdfs = std::filesystem;

constexpr int k_probe_exit_status = (0x2a << 1) | 1;  // 85

// mov al,0x2a; out 0xf4,al; cli; hlt; jmp $  ...  0x55 0xaa
std::string probe_boot_sector() {
  std::string sector(512, '\0');
  constexpr std::array<unsigned char, 9> code{0xb0, 0x2a, 0xe6, 0xf4, 0xfa, 0xf4, 0xeb, 0xfe, 0x90};
  for (std::size_t i = 0; i < code.size(); ++i) {
    sector[i] = static_cast<char>(code[i]);
  }
  sector[510] = static_cast<char>(0x55);
  sector[511] = static_cast<char>(0xaa);
  return sector;
}

std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of("\n\r ");
  if (end == std::string::npos) {
    return {};
  }
  auto newline = text.rfind('\n', end);
  auto start = newline == std::string::npos ? 0 : newline + 1;
  return text.substr(start, end - start + 1);
}

// Empty if /dev/kvm can be opened read-write, else why not.
std::string kvm_device_problem() {
  if (::access("/dev/kvm", F_OK) != 0) {
    return "/dev/kvm does not exist";
  }
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return "/dev/kvm cannot be opened read-write";
  }
  ::close(fd);
  return {};
}

std::string seconds(std::chrono::milliseconds ms) {
  return common::log::format_duration(ms.count() / 1000.0);
}

Result<Accel> decide(AccelMode mode, std::chrono::milliseconds deadline) {
  if (mode == AccelMode::tcg) {
    return Accel{false, "tcg", "TCG requested"};
  }
  // The user already told libguestfs to use TCG: no probe (it would cost its whole deadline on a
  // machine where KVM guests hang).
  if (const char* s = std::getenv("LIBGUESTFS_BACKEND_SETTINGS");
      mode == AccelMode::auto_ && s != nullptr &&
      std::string_view(s).find("force_tcg") != std::string_view::npos) {
    return Accel{false, "tcg", "using TCG: LIBGUESTFS_BACKEND_SETTINGS has force_tcg"};
  }
  if (auto problem = kvm_device_problem(); !problem.empty()) {
    if (mode == AccelMode::kvm) {
      return fail(Errc::precondition, "KVM requested but {}", problem);
    }
    return Accel{false, "tcg", fmt::format("using TCG: {}", problem)};
  }
  TRY_ASSIGN(ProbeResult probe, run_accel_probe("kvm", deadline));
  if (probe.ran) {
    return Accel{true, "kvm", fmt::format("using KVM: probe guest ran ({})", probe.detail)};
  }
  if (mode == AccelMode::kvm) {
    return fail(Errc::precondition, "KVM requested but a probe guest does not run under it ({})",
                probe.detail);
  }
  return Accel{
      false, "tcg",
      fmt::format("using TCG: /dev/kvm exists but a probe guest did not run under KVM ({})", probe.detail)};
}

}  // namespace

Result<AccelMode> parse_accel_mode(std::string_view text) {
  if (text == "auto")
    return AccelMode::auto_;
  if (text == "kvm")
    return AccelMode::kvm;
  if (text == "tcg")
    return AccelMode::tcg;
  return fail(Errc::usage, "unknown accelerator '{}' (choose auto, kvm or tcg)", text);
}

std::string_view to_string(AccelMode mode) {
  switch (mode) {
    case AccelMode::auto_:
      return "auto";
    case AccelMode::kvm:
      return "kvm";
    case AccelMode::tcg:
      return "tcg";
  }
  return "auto";
}

// The newest readable host kernel, for the second probe stage; empty if none.
stdfs::path find_probe_kernel() {
  std::vector<stdfs::path> kernels;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator("/boot", ec)) {
    auto name = e.path().filename().string();
    if (name.starts_with("vmlinuz-") && ::access(e.path().c_str(), R_OK) == 0) {
      kernels.push_back(e.path());
    }
  }
  std::sort(kernels.begin(), kernels.end());
  return kernels.empty() ? stdfs::path() : kernels.back();
}

// Stage 2: a real Linux kernel boots until it panics for want of a root fs (QEMU then exits,
// -no-reboot). Seen here: a boot sector runs under KVM while a kernel hangs in early boot, so
// the sector alone is not proof that guests run.
ProbeResult run_kernel_probe(std::string_view qemu_accel, const stdfs::path& kernel,
                             std::chrono::milliseconds deadline) {
  std::vector<std::string> argv{"qemu-system-x86_64",
                                "-accel",
                                std::string(qemu_accel),
                                "-M",
                                "pc",
                                "-m",
                                "256",
                                "-nodefaults",
                                "-display",
                                "none",
                                "-no-reboot",
                                "-monitor",
                                "none",
                                "-serial",
                                "stdio",
                                "-kernel",
                                kernel.string(),
                                "-append",
                                "console=ttyS0 panic=-1 root=/dev/binder-probe-none"};
  exec::Options options;
  options.timeout = deadline;
  auto start = std::chrono::steady_clock::now();
  auto out = exec::run(argv, options);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  ProbeResult result;
  if (!out) {
    result.detail = out.error().message;
  } else if (out->timed_out) {
    result.detail = fmt::format("a probe kernel did not finish booting within {}", seconds(deadline));
  } else if (out->out.find("Kernel panic") != std::string::npos) {
    result.ran = true;
    result.detail = fmt::format("guest and kernel ran in {}", seconds(took));
  } else {
    result.detail = fmt::format("a probe kernel stopped early (exit status {})", out->exit_code);
  }
  return result;
}

Result<ProbeResult> run_accel_probe(std::string_view qemu_accel, std::chrono::milliseconds deadline) {
  if (!exec::find_program("qemu-system-x86_64")) {
    return fail(Errc::not_found, "qemu-system-x86_64 not found in PATH");
  }
  TRY_ASSIGN(auto dir, cfs::TempDir::create("binder-accel-probe"));
  auto image = dir.path() / "probe.img";
  TRY(cfs::write_file_atomic(image, probe_boot_sector()));
  std::vector<std::string> argv{"qemu-system-x86_64",
                                "-accel",
                                std::string(qemu_accel),
                                "-M",
                                "pc",
                                "-m",
                                "16",
                                "-nodefaults",
                                "-nographic",
                                "-no-reboot",
                                "-display",
                                "none",
                                "-serial",
                                "none",
                                "-monitor",
                                "none",
                                "-device",
                                "isa-debug-exit,iobase=0xf4,iosize=0x04",
                                "-drive",
                                fmt::format("file={},format=raw,if=ide", image.string())};
  exec::Options options;
  options.timeout = deadline;
  auto start = std::chrono::steady_clock::now();
  TRY_ASSIGN(exec::Output out, exec::run(argv, options));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  ProbeResult result;
  if (out.timed_out) {
    result.detail = fmt::format("the probe guest did not finish within {}", seconds(deadline));
  } else if (out.exit_code == k_probe_exit_status) {
    result.ran = true;
    result.detail = fmt::format("guest ran in {}", seconds(took));
    if (auto kernel = find_probe_kernel(); !kernel.empty()) {
      return run_kernel_probe(qemu_accel, kernel, deadline);
    }
  } else if (out.signal != 0) {
    result.detail = fmt::format("qemu was killed by signal {}", out.signal);
  } else {
    auto line = last_line(out.err);
    result.detail =
        fmt::format("qemu exited with status {}{}{}", out.exit_code, line.empty() ? "" : ": ", line);
  }
  return result;
}

Result<Accel> choose_accel(AccelMode mode, std::chrono::milliseconds deadline) {
  if (mode == AccelMode::tcg) {
    return decide(mode, deadline);
  }
  // Cached per mode for the process; a failed `kvm` decision is cached too (it will not change).
  static std::mutex mutex;
  static std::optional<Result<Accel>> cached_auto;
  static std::optional<Result<Accel>> cached_kvm;
  std::lock_guard lock(mutex);
  auto& slot = mode == AccelMode::auto_ ? cached_auto : cached_kvm;
  if (!slot) {
    slot = decide(mode, deadline);
    if (*slot) {
      common::log::info("accelerator: {}", (*slot)->reason);
    }
  }
  return *slot;
}

std::map<std::string, std::string> guestfs_env(const Accel& accel) {
  if (accel.kvm) {
    return {};
  }
  return {{"LIBGUESTFS_BACKEND_SETTINGS", "force_tcg"}};
}

}  // namespace binder::base
