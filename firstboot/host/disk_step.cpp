// Step host:extra-disk: an extra empty disk for dind (spec §1 step 1): one GPT partition named
// binder-data, xfs labelled binder-data, mounted by UUID at /mnt/disk (fstab, nofail), with
// /mnt/disk/dind. Resumable at any point: the chosen device is journaled before it is touched;
// "partition but no filesystem" continues with mkfs; "our filesystem" is adopted; anything else
// on a disk (partitions, filesystems, signatures, mounts, the root disk) means hands off.
#include <filesystem>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "firstboot/host/disk_probe.hpp"
#include "firstboot/host/files.hpp"
#include "firstboot/host/host_steps.hpp"

namespace binder::firstboot::host {
namespace {

constexpr std::string_view k_device_key = "host.extra_disk.device";

const BlockDevice* find(const std::vector<BlockDevice>& devs, const std::string& path) {
  for (const auto& d : devs) {
    if (d.path == path) {
      return &d;
    }
  }
  return nullptr;
}

std::string spec_text(const ExtraDiskSpec& s) {
  return s.kind == ExtraDiskSpec::Kind::automatic ? "auto"
         : s.kind == ExtraDiskSpec::Kind::none    ? "none"
                                                  : s.device;
}

// Chooses the device (journaled choice first, then the named one, then auto). Empty: none.
Result<std::string> choose(Env& env, const std::vector<BlockDevice>& devs) {
  if (auto prev = env.output(k_device_key); prev && !prev->empty()) {
    return *prev;
  }
  const auto& spec = env.member.node.extra_disk;
  if (spec.kind == ExtraDiskSpec::Kind::device) {
    return spec.device;
  }
  for (const BlockDevice* d : auto_candidates(devs)) {
    if (classify(*d).state == DiskState::empty) {
      TRY_ASSIGN(bool sig, probe_signatures(env, d->path));
      if (sig) {
        common::log::info("'{}' looks empty but carries data signatures, skipping", d->path);
        continue;
      }
    }
    return d->path;
  }
  return std::string();
}

Result<void> ensure_fstab(Env& env, const std::string& uuid, Outcome& out) {
  std::string want = fmt::format("UUID={} {} xfs defaults,nofail 0 2", uuid, k_mountpoint);
  TRY_ASSIGN(auto cur, common::fs::read_file_if_exists(env.path("/etc/fstab")));
  std::vector<std::string> lines = cur ? split_lines(*cur) : std::vector<std::string>{};
  std::vector<std::string> kept;
  bool found = false;
  for (const auto& l : lines) {
    std::string t = trim(l);
    // Fields: source mountpoint ...; replace any other entry for our mount point.
    auto sp = t.find_first_of(" \t");
    std::string mp =
        sp == std::string::npos ? "" : trim(t.substr(sp)).substr(0, trim(t.substr(sp)).find_first_of(" \t"));
    if (!t.empty() && t[0] != '#' && mp == k_mountpoint) {
      if (t == want && !found) {
        found = true;
        kept.push_back(l);
      }
      continue;
    }
    kept.push_back(l);
  }
  if (!found) {
    kept.push_back(want);
  }
  TRY_ASSIGN(Outcome o, ensure_file(env, "/etc/fstab", join_lines(kept), 0644));
  if (o == Outcome::changed) {
    out = Outcome::changed;
  }
  return {};
}

class ExtraDiskStep : public Step {
 public:
  std::string_view id() const override { return "host:extra-disk"; }
  std::string describe(const Env& env) const override {
    return env.member.node.extra_disk.kind == ExtraDiskSpec::Kind::none
               ? std::string("no extra disk (node.extra_disk: none)")
               : fmt::format("prepare the extra disk ({}) as xfs at {}",
                             spec_text(env.member.node.extra_disk), k_mountpoint);
  }
  std::string fingerprint(const Env& env) const override {
    return fingerprint_of({spec_text(env.member.node.extra_disk)});
  }
  Result<Outcome> apply(Env& env) override {
    env.facts.extra_disk.clear();
    env.facts.extra_disk_bytes = 0;
    if (env.member.node.extra_disk.kind == ExtraDiskSpec::Kind::none) {
      return Outcome::unchanged;
    }
    TRY_ASSIGN(auto devs, probe_devices(env));
    TRY_ASSIGN(std::string device, choose(env, devs));
    if (device.empty()) {
      common::log::info("no empty extra disk found; dind stays on the root disk");
      return Outcome::unchanged;
    }
    if (env.output(k_device_key) != device) {
      TRY(env.put_output(k_device_key, device));  // journaled before the disk is touched
    }
    Outcome out = Outcome::unchanged;
    TRY_ASSIGN(DiskVerdict v, verdict(env, devs, device));
    if (v.state == DiskState::empty) {
      TRY_ASSIGN(bool sig, probe_signatures(env, device));
      if (sig) {
        return common::fail(Errc::precondition, "refusing to use '{}': it carries data signatures", device);
      }
      common::log::info("partitioning '{}' (GPT, one partition '{}')", device, k_data_label);
      TRY(env.runner.run_checked({"sfdisk", "--quiet", "--wipe", "always", device},
                                 {.stdin_data = sfdisk_script()}));
      (void)env.runner.run({"udevadm", "settle"});
      out = Outcome::changed;
      TRY_ASSIGN(devs, probe_devices(env, device));
      TRY_ASSIGN(v, verdict(env, devs, device));
    }
    if (v.state == DiskState::ours_partition) {
      TRY_ASSIGN(bool sig, probe_signatures(env, v.partition));
      if (sig) {
        return common::fail(Errc::precondition, "refusing to format '{}': it carries data signatures",
                            v.partition);
      }
      common::log::info("formatting '{}' as xfs", v.partition);
      TRY(env.runner.run_checked({"mkfs.xfs", "-q", "-L", std::string(k_data_label), v.partition}));
      (void)env.runner.run({"udevadm", "settle"});
      out = Outcome::changed;
    } else if (v.state != DiskState::ours_complete) {
      return common::fail(Errc::precondition, "refusing to use '{}' as the extra disk: {}", device, v.reason);
    }
    TRY_ASSIGN(auto uuid_out, env.runner.run_checked({"blkid", "-s", "UUID", "-o", "value", v.partition}));
    std::string uuid = trim(uuid_out.out);
    if (uuid.empty()) {
      return common::fail(Errc::external_tool, "no filesystem UUID on '{}'", v.partition);
    }
    TRY(ensure_fstab(env, uuid, out));
    TRY(mount(env, uuid, out));
    auto dind = env.path(std::string(k_mountpoint) + "/dind");
    if (!std::filesystem::is_directory(dind)) {
      TRY(common::fs::make_directories(dind, 0711));
      out = Outcome::changed;
    }
    // The journal marks this step done next; the new directory must survive a power cut first
    // (seen in the smoke boot's power-cut run: /mnt/disk/dind was lost, the step was not rerun).
    TRY(common::fs::fsync_dir(env.path(std::string(k_mountpoint))));
    env.facts.extra_disk = device;
    // The disk's size sizes the buildkit cache (sizing.hpp); journaled for resumed runs.
    if (const BlockDevice* d = find(devs, device); d && d->size > 0) {
      env.facts.extra_disk_bytes = d->size;
      if (env.output("host.extra_disk.bytes") != std::to_string(d->size)) {
        TRY(env.put_output("host.extra_disk.bytes", std::to_string(d->size)));
      }
    }
    return out;
  }

 private:
  static Result<DiskVerdict> verdict(Env& env, std::vector<BlockDevice>& devs, const std::string& device) {
    const BlockDevice* d = find(devs, device);
    if (!d) {
      TRY_ASSIGN(devs, probe_devices(env, device));
      d = find(devs, device);
      if (!d && devs.size() == 1) {
        d = &devs[0];
      }
    }
    if (!d) {
      return common::fail(Errc::precondition, "extra disk '{}' not found", device);
    }
    return classify(*d);
  }

  static Result<void> mount(Env& env, const std::string& uuid, Outcome& out) {
    auto mp = env.path(k_mountpoint);
    TRY(common::fs::make_directories(mp, 0755));
    TRY_ASSIGN(auto cur, env.runner.run({"findmnt", "-n", "-o", "UUID", "--mountpoint", mp.string()}));
    if (cur.exit_code == 0 && trim(cur.out) == uuid) {
      return {};
    }
    if (cur.exit_code == 0 && !trim(cur.out).empty()) {
      return common::fail(Errc::precondition, "'{}' is already a mount point of another filesystem",
                          mp.string());
    }
    TRY(env.runner.run_checked({"mount", "-t", "xfs", "UUID=" + uuid, mp.string()}));
    out = Outcome::changed;
    return {};
  }
};

}  // namespace

std::unique_ptr<Step> make_extra_disk_step() { return std::make_unique<ExtraDiskStep>(); }

}  // namespace binder::firstboot::host
