// The host steps (DESIGN.md §6 step 2), in run order: hostname, operators' SSH keys, NTP,
// sysctls, extra disk. Each works under env.root(); commands go through env.runner and run only
// when env.live() (hostnamectl, systemctl, sysctl), except the disk tools, which the disk step
// always runs through the runner (tests fake them or use a loop device).
#pragma once

#include <memory>

#include "firstboot/step.hpp"

namespace binder::firstboot::host {

// /etc/hostname = member.name; live: hostnamectl set-hostname.
std::unique_ptr<Step> make_hostname_step();
// operators.ssh_authorized_keys appended to ~user/.ssh/authorized_keys (0600, dir 0700), never
// removing lines, never duplicating a key (compared by type + key material).
std::unique_ptr<Step> make_ssh_keys_step();
// node.ntp -> /etc/systemd/timesyncd.conf.d/binder.conf ([Time] NTP=...); live: restart
// systemd-timesyncd when changed. Empty list: the drop-in is removed (distribution defaults).
std::unique_ptr<Step> make_ntp_step();
// fs.inotify limits (spec §5.3) ensured in /etc/sysctl.d/60-binder.conf (other lines kept);
// live: `sysctl -p` that file when the running values are lower.
std::unique_ptr<Step> make_sysctl_step();
// See disk_step.hpp.
std::unique_ptr<Step> make_extra_disk_step();

StepList make_host_steps();

}  // namespace binder::firstboot::host
