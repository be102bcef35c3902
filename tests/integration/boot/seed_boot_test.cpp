// Boot test of the seed alone (label boot), independent of the image pipeline: the Debian 12 test
// rootfs assembled into a disk (base::assemble_rootfs_disk), a seed from binder::seed attached
// as a virtio drive, and cloud-init must find it, install the extra CA and write_files, and run
// runcmd, which reports on the serial console and powers off. Skipped only without QEMU.
#include <cstdlib>

#include <catch2/catch.hpp>

#include "base/accel.hpp"
#include "base/assemble.hpp"
#include "binder_paths.h"
#include "common/exec.hpp"
#include "common/fs.hpp"
#include "seed/seed.hpp"
#include "support/skip.hpp"

namespace exec = binder::common::exec;
namespace cfs = binder::common::fs;
namespace stdfs = std::filesystem;

namespace {

const stdfs::path k_repo = BINDER_SOURCE_DIR;
const stdfs::path k_bin = BINDER_BIN_DIR;

std::string rootfs_tarball() {
  if (const char* v = std::getenv("BINDER_TEST_ROOTFS"); v != nullptr && *v != '\0') {
    return v;
  }
  exec::Options o;
  o.timeout = std::chrono::minutes(20);
  auto r = exec::run_checked({"nice", (k_repo / "ci" / "make-test-rootfs").string()}, o);
  REQUIRE(r);
  std::string out = r->out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

const char* k_member = "name: seedtest\ndomain: example.test\nmode: standalone\n";

// Runs in the guest from cloud-init's runcmd: every check prints its own word, then one verdict.
const char* k_check =
    "r=SEED-OK; "
    "grep -q 'seed-test-ca' /etc/ssl/certs/ca-certificates.crt || r=SEED-BAD-ca-bundle; "
    "test -f /usr/local/share/ca-certificates/binder-extra-ca.crt || r=SEED-BAD-ca-file; "
    "test \"$(stat -c %a /etc/binder-image/test/fake-kube.yaml)\" = 600 || r=SEED-BAD-write-file; "
    "grep -q 'binder_member' /var/lib/cloud/instance/user-data.txt || r=SEED-BAD-user-data; "
    "test \"$(hostname)\" = seedtest || r=SEED-BAD-hostname; "
    "grep -q DataSourceNoCloud /var/lib/cloud/instance/datasource || r=SEED-BAD-datasource; "
    "echo \"SEED-VERDICT: $r\" > /dev/ttyS0";

}  // namespace

// Was hidden on 2026-11-21 as "the guest shuts down ~35 s in before cloud-init reports a
// datasource": the guest was fine (runcmd ran, the verdict was SEED-OK); the test looked for
// cloud-init's "DataSourceNoCloud" in the serial log, which cloud-final prints only when it
// finishes, and runcmd's poweroff races it. The datasource is now checked inside the guest.
TEST_CASE("boot: a binder seed on a virtio drive reaches cloud-init runcmd on the test base",
          "[boot][seed]") {
  if (!exec::find_program("qemu-system-x86_64")) {
    BINDER_SKIP_MISSING_TOOL("qemu-system-x86_64");
  }
  auto dir = cfs::TempDir::create("seed-boot-test", k_bin);
  REQUIRE(dir);
  stdfs::path base = k_bin / "boot-test-base.qcow2";  // reused between runs: 3 GiB test base
  if (!stdfs::exists(base)) {
    auto made = binder::base::assemble_rootfs_disk(rootfs_tarball(), base, 3ull << 30);
    INFO((made ? std::string() : made.error().to_string()));
    REQUIRE(made);
  }
  binder::seed::MemberDataOptions o;
  o.ca_cert_pem = "-----BEGIN CERTIFICATE-----\n# seed-test-ca\n-----END CERTIFICATE-----\n";
  o.write_files.push_back({"/etc/binder-image/test/fake-kube.yaml", "kind: Config\n", "0600"});
  o.runcmd = {k_check, "systemctl poweroff --no-block"};
  auto ud = binder::seed::member_data_from_text(k_member, "member.yaml", o);
  REQUIRE(ud);
  stdfs::path seed = dir->path() / "seed.iso";
  REQUIRE(binder::seed::write_seed_iso({*ud, binder::seed::meta_data("seed-1", "seedtest"), {}}, seed));

  stdfs::path overlay = dir->path() / "disk.qcow2";
  REQUIRE(exec::run_checked(
      {"qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base.string(), overlay.string()}));
  auto accel = binder::base::choose_accel(binder::base::AccelMode::auto_);
  REQUIRE(accel);
  stdfs::path serial = dir->path() / "serial.log";
  exec::Options qo;
  qo.timeout = std::chrono::seconds(600);
  auto start = std::chrono::steady_clock::now();
  auto q = exec::run({"qemu-system-x86_64",
                      "-accel",
                      accel->qemu_arg,
                      "-M",
                      "pc",
                      "-m",
                      "1024",
                      "-smp",
                      "2",
                      "-nodefaults",
                      "-display",
                      "none",
                      "-no-reboot",
                      "-monitor",
                      "none",
                      "-serial",
                      "file:" + serial.string(),
                      "-drive",
                      "file=" + overlay.string() + ",format=qcow2,if=virtio",
                      "-drive",
                      "file=" + seed.string() + ",format=raw,if=virtio,readonly=on",
                      "-netdev",
                      "user,id=n0",
                      "-device",
                      "virtio-net-pci,netdev=n0",
                      "-device",
                      "virtio-rng-pci"},
                     qo);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(q);
  auto log = cfs::read_file(serial);
  REQUIRE(log);
  INFO("serial log tail:\n" << log->substr(log->size() > 4000 ? log->size() - 4000 : 0));
  CHECK_FALSE(q->timed_out);
  CHECK(log->find("SEED-VERDICT: SEED-OK") != std::string::npos);
  WARN("seed boot: QEMU start to power-off " << seconds << " s (" << accel->qemu_arg << ")");
}
