// The host steps (DESIGN.md §6 step 2): hostname, operators' SSH keys, NTP, sysctls, extra
// disk (run order: firstboot/app/steps.cpp). Each works under env.root(); commands go through
// env.runner and run only when env.live() (hostnamectl, systemctl, sysctl), except the disk tools, which the
// disk step always runs through the runner (tests fake them or use a loop device).
#pragma once

#include <memory>
#include <string_view>

#include "firstboot/step.hpp"

namespace binder::firstboot::host {

// /etc/hostname = member.name; live: hostnamectl set-hostname.
std::unique_ptr<Step> make_hostname_step();
// operators.ssh_authorized_keys appended to ~user/.ssh/authorized_keys (0600, dir 0700), never
// removing lines, never duplicating a key (compared by type + key material).
std::unique_ptr<Step> make_ssh_keys_step();
// NTP files: the image's servers (profile `ntp`, written by binder-image) and the member's
// (node.ntp, written here). timesyncd reads drop-ins in name order; NTP= lines add up and an
// empty NTP= resets the list.
inline constexpr std::string_view k_image_ntp_dropin = "/etc/systemd/timesyncd.conf.d/60-binder.conf";
inline constexpr std::string_view k_member_ntp_dropin = "/etc/systemd/timesyncd.conf.d/70-binder-member.conf";
// node.ntp -> k_member_ntp_dropin ([Time] NTP=..., after an empty NTP= for ntp_mode: replace);
// the image's file is never touched. Live: restart systemd-timesyncd when changed. Empty list:
// the member's drop-in is removed (the image's servers alone).
std::unique_ptr<Step> make_ntp_step();
// fs.inotify limits (spec §5.3) ensured in /etc/sysctl.d/60-binder.conf (other lines kept);
// live: `sysctl -p` that file when the running values are lower.
std::unique_ptr<Step> make_sysctl_step();
// See disk_step.hpp.
std::unique_ptr<Step> make_extra_disk_step();

}  // namespace binder::firstboot::host
