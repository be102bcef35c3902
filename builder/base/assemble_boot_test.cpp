// Slow end-to-end checks of assemble_rootfs_disk: the real Debian 12 test rootfs (made by
// ci/make-test-rootfs from the Debian mirror, cached) is assembled and booted under QEMU TCG,
// once through SeaBIOS + GRUB core.img and once through OVMF + BOOTX64.EFI, reading the serial log.
// One test case, no SECTIONs: Catch2 would rerun the (30 s) assembly for each section.
#include <signal.h>

#include <cstdlib>
#include <thread>

#include <catch2/catch.hpp>

#include "base/assemble.hpp"
#include "binder_paths.h"
#include "common/exec.hpp"
#include "common/fs.hpp"
#include "support/skip.hpp"

using namespace binder::base;
using namespace std::chrono_literals;
namespace exec = binder::common::exec;
namespace cfs = binder::common::fs;
namespace stdfs = std::filesystem;

namespace {

struct Boot {
  std::string log;
  double seconds_to_kernel = -1;  // first "Linux version" line
  double seconds_to_target = -1;  // first systemd "Reached target"
  double seconds_to_login = -1;   // serial getty's "login:"
};

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Boots with the serial console in a file until `stop_at` shows up in it or `budget` runs out;
// QEMU is found by its -pidfile and killed then.
Boot boot_until(std::vector<std::string> argv, const stdfs::path& dir, const std::string& stop_at,
                std::chrono::seconds budget) {
  auto log = dir / "serial.log";
  auto pidfile = dir / "qemu.pid";
  argv.insert(argv.end(), {"-display", "none", "-serial", "file:" + log.string(), "-pidfile",
                           pidfile.string(), "-no-reboot"});
  Boot boot;
  std::atomic<bool> exited{false};
  exec::Output out;
  auto start = std::chrono::steady_clock::now();
  std::thread runner([&] {
    auto r = exec::run(argv, {.timeout = budget + 10s});
    if (r)
      out = *r;
    exited = true;
  });
  while (!exited && since(start) < budget.count()) {
    std::this_thread::sleep_for(500ms);
    boot.log = cfs::read_file_if_exists(log).value_or(std::nullopt).value_or("");
    auto mark = [&](double& at, const char* text) {
      if (at < 0 && boot.log.find(text) != std::string::npos)
        at = since(start);
    };
    mark(boot.seconds_to_kernel, "Linux version");
    mark(boot.seconds_to_target, "Reached target");
    mark(boot.seconds_to_login, "login:");
    if (boot.log.find(stop_at) != std::string::npos)
      break;
  }
  if (!exited) {
    if (auto pid = cfs::read_file_if_exists(pidfile); pid && *pid) {
      ::kill(std::stoi(**pid), SIGKILL);
    }
  }
  runner.join();
  boot.log = cfs::read_file_if_exists(log).value_or(std::nullopt).value_or("");
  if (!exited || out.exit_code != 0) {
    UNSCOPED_INFO("qemu stderr: " << out.err);
  }
  return boot;
}

std::string tail(const std::string& s, std::size_t n = 3000) {
  return s.size() > n ? s.substr(s.size() - n) : s;
}

}  // namespace

TEST_CASE("assemble: the Debian test rootfs boots under BIOS and UEFI", "[slow][assemble-boot]") {
  if (!exec::find_program("qemu-system-x86_64") || !exec::find_program("mmdebstrap")) {
    BINDER_SKIP_MISSING_TOOL("qemu-system-x86_64 or mmdebstrap");
  }
  // ci/test-env exports the tarball's path; otherwise make (or reuse) it here.
  stdfs::path tarball;
  if (const char* env = std::getenv("BINDER_TEST_ROOTFS"); env != nullptr && env[0] != '\0') {
    tarball = env;
  } else {
    auto made = exec::run({BINDER_SOURCE_DIR "/ci/make-test-rootfs"}, {.timeout = 20min});
    REQUIRE(made);
    INFO(made->err);
    REQUIRE(made->exit_code == 0);
    tarball = made->out.substr(0, made->out.find('\n'));
  }

  auto tmp = cfs::TempDir::create("binder-assemble-boot").value();
  auto disk = tmp.path() / "out" / "debian-12.qcow2";
  auto start = std::chrono::steady_clock::now();
  auto r = assemble_rootfs_disk(tarball, disk, 3ull << 30, {.work_dir = tmp.path()});
  REQUIRE(r);
  WARN("assembled a 3 GiB disk in " << since(start) << " s");
  auto info = exec::run_checked({"qemu-img", "info", "--output=json", disk.string()});
  REQUIRE(info);
  CHECK(info->out.find("\"virtual-size\": 3221225472") != std::string::npos);
  CHECK(info->out.find("\"format\": \"qcow2\"") != std::string::npos);
  // Only the published file is left in the output directory.
  CHECK(std::distance(stdfs::directory_iterator(disk.parent_path()), stdfs::directory_iterator()) == 1);

  std::vector<std::string> common{"qemu-system-x86_64",
                                  "-accel",
                                  "tcg",
                                  "-m",
                                  "1024",
                                  "-nodefaults",
                                  "-drive",
                                  "file=" + disk.string() + ",if=virtio,format=qcow2,snapshot=on",
                                  "-nic",
                                  "user,model=virtio-net-pci"};

  // BIOS: SeaBIOS, GRUB core.img, kernel, systemd, login prompt.
  {
    auto dir = tmp.path() / "bios";
    REQUIRE(cfs::make_directories(dir));
    auto argv = common;
    argv.insert(argv.end(), {"-M", "pc"});
    auto boot = boot_until(argv, dir, "login:", 200s);
    INFO(tail(boot.log));
    WARN("BIOS boot: kernel " << boot.seconds_to_kernel << " s, first target " << boot.seconds_to_target
                              << " s, login " << boot.seconds_to_login << " s");
    CHECK(boot.seconds_to_kernel > 0);
    CHECK(boot.log.find("root=LABEL=root") != std::string::npos);
    CHECK(boot.seconds_to_target > 0);
    CHECK(boot.seconds_to_login > 0);
    // Every unit started so far came up (e.g. sshd without cloud-init, networkd, resolved).
    CHECK(boot.log.find("FAILED") == std::string::npos);
  }

  // UEFI: OVMF, removable-path BOOTX64.EFI, kernel, systemd.
  const stdfs::path code = "/usr/share/OVMF/OVMF_CODE.fd";
  const stdfs::path vars = "/usr/share/OVMF/OVMF_VARS.fd";
  if (!stdfs::exists(code) || !stdfs::exists(vars)) {
    BINDER_SKIP_MISSING_TOOL("OVMF");
  }
  {
    auto dir = tmp.path() / "uefi";
    REQUIRE(cfs::make_directories(dir));
    stdfs::copy_file(vars, dir / "vars.fd");
    auto argv = common;
    argv.insert(argv.end(), {"-M", "q35", "-drive", "if=pflash,format=raw,readonly=on,file=" + code.string(),
                             "-drive", "if=pflash,format=raw,file=" + (dir / "vars.fd").string()});
    auto boot = boot_until(argv, dir, "Reached target", 200s);
    INFO(tail(boot.log));
    WARN("UEFI boot: kernel " << boot.seconds_to_kernel << " s, first target " << boot.seconds_to_target
                              << " s");
    CHECK(boot.seconds_to_kernel > 0);
    CHECK(boot.seconds_to_target > 0);
  }
}

TEST_CASE("assemble: a missing tarball or a too-small disk fails naming the tarball and leaves no output",
          "[assemble]") {
  auto tmp = cfs::TempDir::create("binder-assemble-bad").value();
  auto out = tmp.path() / "x.qcow2";
  auto missing = assemble_rootfs_disk(tmp.path() / "nope.tar.zst", out, 3ull << 30);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().to_string() == "assembling a disk from rootfs tarball '" +
                                           (tmp.path() / "nope.tar.zst").string() +
                                           "': the rootfs tarball does not exist or is not a file");
  // A tiny but real tarball with no kernel: the tree check fails before any disk is written.
  REQUIRE(cfs::write_file_atomic(tmp.path() / "tree/etc/hostname", "x\n"));
  REQUIRE(exec::run_checked(
      {"tar", "-C", (tmp.path() / "tree").string(), "-cf", (tmp.path() / "small.tar").string(), "."}));
  auto nokernel = assemble_rootfs_disk(tmp.path() / "small.tar", out, 1ull << 30, {.work_dir = tmp.path()});
  REQUIRE_FALSE(nokernel);
  CHECK(nokernel.error().to_string().find("'" + (tmp.path() / "small.tar").string() + "'") !=
        std::string::npos);
  CHECK(nokernel.error().message.starts_with("no kernel with an initrd found"));
  auto tiny = assemble_rootfs_disk(tmp.path() / "small.tar", out, 100ull << 20);
  REQUIRE_FALSE(tiny);
  CHECK(tiny.error().code == binder::common::Errc::invalid_config);
  CHECK_FALSE(stdfs::exists(out));
}
