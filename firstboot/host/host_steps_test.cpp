// Host steps against a temp root: applied twice (second run unchanged), merging with existing
// content, the extra-disk rules, and crash/resume through a whole host run.
#include "firstboot/host/host_steps.hpp"

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "firstboot/host/disk_probe.hpp"
#include "firstboot/runner.hpp"
#include "support/firstboot/fake_disk_test_support.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
using binder::firstboot::testing::TestRoot;
namespace fs = binder::common::fs;

namespace {

const char* k_key1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1 team@mybinder";
const char* k_key2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2 other";

Member member() {
  Member m;
  m.name = "example";
  m.domain = "mybinder.org";
  m.operators.ssh_authorized_keys = {k_key1, k_key2};
  m.node.ntp = {"ntp1.example.org", "ntp2.example.org"};
  m.node.extra_disk.kind = ExtraDiskSpec::Kind::automatic;
  return m;
}

Outcome apply(Step& s, Env& env) {
  auto r = s.apply(env);
  if (!r) {
    FAIL(r.error().to_string());
  }
  return *r;
}

}  // namespace

TEST_CASE("host: hostname step applied twice", "[host]") {
  TestRoot t(member());
  auto s = host::make_hostname_step();
  CHECK(apply(*s, *t.env) == Outcome::changed);
  CHECK(t.read("/etc/hostname") == "example\n");
  CHECK(apply(*s, *t.env) == Outcome::unchanged);
  CHECK(t.runner.calls.empty());  // not live: no hostnamectl
}

TEST_CASE("host: ssh keys are appended, existing lines kept, no duplicates", "[host]") {
  TestRoot t(member());
  t.write("/root/.ssh/authorized_keys",
          "# existing\nno-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1 old-comment\nssh-rsa AAAAB3 admin");
  auto s = host::make_ssh_keys_step();
  CHECK(apply(*s, *t.env) == Outcome::changed);
  CHECK(t.read("/root/.ssh/authorized_keys") ==
        "# existing\nno-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1 old-comment\nssh-rsa AAAAB3 admin\n" +
            std::string(k_key2) + "\n");
  CHECK(apply(*s, *t.env) == Outcome::unchanged);
  auto perms = std::filesystem::status(t.path("/root/.ssh")).permissions() & std::filesystem::perms::all;
  CHECK(perms == std::filesystem::perms::owner_all);
}

TEST_CASE("host: ssh keys for a configured user go to their home", "[host]") {
  Member m = member();
  m.operators.user = "debian";
  TestRoot t(m);
  t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndebian:x:1000:1000::/home/debian:/bin/bash\n");
  auto s = host::make_ssh_keys_step();
  CHECK(apply(*s, *t.env) == Outcome::changed);
  CHECK(t.read("/home/debian/.ssh/authorized_keys") == std::string(k_key1) + "\n" + k_key2 + "\n");
  CHECK(std::filesystem::exists(t.path("/home/debian/.ssh")));
  CHECK(apply(*s, *t.env) == Outcome::unchanged);
}

TEST_CASE("host: ntp drop-in applied twice, removed when the list is empty, the image's servers survive",
          "[host]") {
  TestRoot t(member());
  const std::string baked = "# Written by binder-image.\n[Time]\nNTP=ntp.ovh.net\n";
  t.write(host::k_image_ntp_dropin, baked);
  auto s = host::make_ntp_step();
  CHECK(apply(*s, *t.env) == Outcome::changed);
  std::string mine = t.read(host::k_member_ntp_dropin);
  CHECK(mine.find("[Time]\nNTP=ntp1.example.org ntp2.example.org\n") != std::string::npos);
  CHECK(mine.find("NTP=\n") == std::string::npos);  // add: no reset
  CHECK(apply(*s, *t.env) == Outcome::unchanged);
  t.env->member.node.ntp.clear();
  CHECK(apply(*s, *t.env) == Outcome::changed);
  CHECK(!std::filesystem::exists(t.path(host::k_member_ntp_dropin)));
  CHECK(apply(*s, *t.env) == Outcome::unchanged);
  // Whatever the metadata says, the image's file stays as baked.
  CHECK(t.read(host::k_image_ntp_dropin) == baked);
  // timesyncd reads drop-ins in name order: the member's must come after the image's.
  CHECK(std::filesystem::path(host::k_image_ntp_dropin).filename() <
        std::filesystem::path(host::k_member_ntp_dropin).filename());
}

TEST_CASE("host: ntp_mode replace resets the list before the member's servers", "[host]") {
  TestRoot t(member());
  t.write(host::k_image_ntp_dropin, "[Time]\nNTP=ntp.ovh.net\n");
  t.env->member.node.ntp_mode = NtpMode::replace;
  auto s = host::make_ntp_step();
  CHECK(s->describe(*t.env) == "use only NTP servers ntp1.example.org, ntp2.example.org");
  CHECK(apply(*s, *t.env) == Outcome::changed);
  CHECK(t.read(host::k_member_ntp_dropin).find("[Time]\nNTP=\nNTP=ntp1.example.org ntp2.example.org\n") !=
        std::string::npos);
  CHECK(t.read(host::k_image_ntp_dropin) == "[Time]\nNTP=ntp.ovh.net\n");
  // Switching back to add rewrites the file without the reset.
  std::string fp = s->fingerprint(*t.env);
  t.env->member.node.ntp_mode = NtpMode::add;
  CHECK(s->fingerprint(*t.env) != fp);
  CHECK(apply(*s, *t.env) == Outcome::changed);
  CHECK(t.read(host::k_member_ntp_dropin).find("NTP=\n") == std::string::npos);
}

TEST_CASE("host: sysctls merged into the image's file, applied twice", "[host]") {
  TestRoot t(member());
  t.write("/etc/sysctl.d/60-binder.conf",
          "# from the image\nvm.swappiness = 10\nfs.inotify.max_user_watches=1000\n");
  auto s = host::make_sysctl_step();
  CHECK(apply(*s, *t.env) == Outcome::changed);
  CHECK(t.read("/etc/sysctl.d/60-binder.conf") ==
        "# from the image\nvm.swappiness = 10\nfs.inotify.max_user_watches = 524288\n"
        "fs.inotify.max_user_instances = 8192\n");
  CHECK(apply(*s, *t.env) == Outcome::unchanged);
}

TEST_CASE("host: lsblk JSON of old and new util-linux", "[host][disk]") {
  auto devs =
      host::parse_lsblk(R"({"blockdevices":[{"name":"sdb","type":"disk","size":"2147483648","ro":"0","rm":"0",
    "fstype":null,"mountpoint":null,"pttype":null}]})");
  REQUIRE(devs);
  CHECK((*devs)[0].path == "/dev/sdb");
  CHECK((*devs)[0].size == 2147483648ull);
  CHECK(host::classify((*devs)[0]).state == host::DiskState::empty);
  CHECK(!host::parse_lsblk("not json"));
}

TEST_CASE("host: extra disk is partitioned, formatted, mounted once", "[host][disk]") {
  host::testing_disk::FakeDisks disks;
  TestRoot t(member());
  t.runner.handler = disks.handler();
  t.write("/etc/fstab", "UUID=root / ext4 defaults 0 1\n");
  auto s = host::make_extra_disk_step();
  CHECK(apply(*s, *t.env) == Outcome::changed);
  CHECK(disks.sfdisk_calls == 1);
  CHECK(disks.mkfs_calls == 1);
  CHECK(t.env->facts.extra_disk == "/dev/vdb");
  CHECK(t.outputs.get("host.extra_disk.device") == "/dev/vdb");
  // Its size sizes the buildkit cache (firstboot/sizing.hpp); journaled for resumed runs.
  CHECK(t.env->facts.extra_disk_bytes == 107374182400ull);
  CHECK(t.outputs.get("host.extra_disk.bytes") == "107374182400");
  CHECK(t.read("/etc/fstab") ==
        "UUID=root / ext4 defaults 0 1\nUUID=1111-2222 /mnt/disk xfs defaults,nofail 0 2\n");
  CHECK(std::filesystem::is_directory(t.path("/mnt/disk/dind")));
  CHECK(apply(*s, *t.env) == Outcome::unchanged);
  CHECK(disks.sfdisk_calls == 1);
  CHECK(disks.mount_calls == 1);
}

TEST_CASE("host: extra disk resumes after a partition without filesystem", "[host][disk]") {
  host::testing_disk::FakeDisks disks;
  disks.partitioned = true;
  TestRoot t(member());
  t.runner.handler = disks.handler();
  auto s = host::make_extra_disk_step();
  CHECK(apply(*s, *t.env) == Outcome::changed);
  CHECK(disks.sfdisk_calls == 0);
  CHECK(disks.mkfs_calls == 1);
}

TEST_CASE("host: a disk with data is never touched", "[host][disk]") {
  SECTION("auto mode skips it and leaves dind on the root disk") {
    host::testing_disk::FakeDisks disks;
    disks.vdb_fstype = "ext4";
    TestRoot t(member());
    t.runner.handler = disks.handler();
    auto s = host::make_extra_disk_step();
    CHECK(apply(*s, *t.env) == Outcome::unchanged);
    CHECK(t.env->facts.extra_disk.empty());
  }
  SECTION("auto mode skips a disk with hidden signatures") {
    host::testing_disk::FakeDisks disks;
    disks.foreign_signature = true;
    TestRoot t(member());
    t.runner.handler = disks.handler();
    auto s = host::make_extra_disk_step();
    CHECK(apply(*s, *t.env) == Outcome::unchanged);
    CHECK(disks.sfdisk_calls == 0);
  }
  SECTION("a named disk with data is an error") {
    host::testing_disk::FakeDisks disks;
    disks.vdb_fstype = "ext4";
    Member m = member();
    m.node.extra_disk = {ExtraDiskSpec::Kind::device, "/dev/vdb"};
    TestRoot t(m);
    t.runner.handler = disks.handler();
    auto r = host::make_extra_disk_step()->apply(*t.env);
    REQUIRE(!r);
    CHECK(r.error().message == "refusing to use '/dev/vdb' as the extra disk: it holds a 'ext4' filesystem");
  }
  SECTION("the root disk when named") {
    host::testing_disk::FakeDisks disks;
    Member m = member();
    m.node.extra_disk = {ExtraDiskSpec::Kind::device, "/dev/vda"};
    TestRoot t(m);
    t.runner.handler = disks.handler();
    auto r = host::make_extra_disk_step()->apply(*t.env);
    REQUIRE(!r);
    CHECK(r.error().message.find("mounted") != std::string::npos);
    CHECK(disks.sfdisk_calls == 0);
  }
}

TEST_CASE("host: crash at every write of a host run, then rerun converges", "[host][crash]") {
  // Reference state from an uninterrupted run.
  auto final_state = [](TestRoot& t) {
    return t.read("/etc/hostname") + t.read("/root/.ssh/authorized_keys") +
           t.read(host::k_member_ntp_dropin) + t.read("/etc/sysctl.d/60-binder.conf") + t.read("/etc/fstab");
  };
  auto run = [](TestRoot& t, Journal*& jp) -> binder::common::Result<RunSummary> {
    auto j = Journal::open(t.path(k_journal_path), t.clock);
    if (!j) {
      return std::unexpected(j.error());
    }
    Env env(t.dir.path(), t.env->member, {}, t.runner, t.clock, *j);
    StepList steps;  // in run order (firstboot/app/steps.cpp)
    steps.push_back(host::make_hostname_step());
    steps.push_back(host::make_ssh_keys_step());
    steps.push_back(host::make_ntp_step());
    steps.push_back(host::make_sysctl_step());
    steps.push_back(host::make_extra_disk_step());
    jp = nullptr;
    return run_steps(steps, env, *j);
  };
  std::string reference;
  int total_writes = 0;
  {
    host::testing_disk::FakeDisks disks;
    TestRoot t(member());
    t.runner.handler = disks.handler();
    t.write("/root/.ssh/authorized_keys", "ssh-rsa AAAAB3 admin\n");
    Journal* jp;
    fs::inject_write_fault(0);
    auto before = fs::fault_points_passed();
    REQUIRE(run(t, jp));
    total_writes = fs::fault_points_passed() - before;
    reference = final_state(t);
  }
  REQUIRE(total_writes > 10);
  for (int n = 1; n <= total_writes; ++n) {
    INFO("fault at write " << n);
    host::testing_disk::FakeDisks disks;
    TestRoot t(member());
    t.runner.handler = disks.handler();
    t.write("/root/.ssh/authorized_keys", "ssh-rsa AAAAB3 admin\n");
    Journal* jp;
    fs::inject_write_fault(n);
    auto first = run(t, jp);
    fs::inject_write_fault(0);
    CHECK(!first);
    auto second = run(t, jp);
    REQUIRE(second);
    CHECK(final_state(t) == reference);
    CHECK(disks.sfdisk_calls == 1);
    CHECK(disks.mkfs_calls == 1);
    auto third = run(t, jp);
    REQUIRE(third);
    CHECK(third->skipped == third->total);
  }
}
