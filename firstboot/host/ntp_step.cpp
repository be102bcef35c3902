// Step host:ntp: the member's NTP servers (node.ntp) in their own systemd-timesyncd drop-in,
// /etc/systemd/timesyncd.conf.d/70-binder-member.conf. The image's servers (the profile's `ntp`,
// written by binder-image to 60-binder.conf) are never touched: timesyncd reads the drop-ins in
// name order and NTP= assignments add up, so node.ntp adds to the baked servers
// (ntp_mode: add, the default); ntp_mode: replace starts the member's file with an empty NTP=,
// which resets the list (systemd's rule for list settings). timesyncd is restarted on a live
// system when the drop-in changed.
#include <filesystem>

#include "firstboot/host/files.hpp"
#include "firstboot/host/host_steps.hpp"

namespace binder::firstboot::host {
namespace {

std::string render(const NodeConfig& node) {
  std::string list;
  for (const auto& s : node.ntp) {
    list += (list.empty() ? "" : " ") + s;
  }
  if (node.ntp_mode == NtpMode::replace) {
    return fmt::format(
        "# Written by binder-firstboot from the member metadata (node.ntp, ntp_mode: "
        "replace): the empty NTP= drops the image's servers ({}).\n"
        "[Time]\nNTP=\nNTP={}\n",
        k_image_ntp_dropin, list);
  }
  return fmt::format(
      "# Written by binder-firstboot from the member metadata (node.ntp, ntp_mode: "
      "add): in addition to the image's servers ({}).\n"
      "[Time]\nNTP={}\n",
      k_image_ntp_dropin, list);
}

class NtpStep : public Step {
 public:
  std::string_view id() const override { return "host:ntp"; }
  std::string describe(const Env& env) const override {
    const NodeConfig& n = env.member.node;
    if (n.ntp.empty())
      return "keep the image's NTP servers";
    return fmt::format("{} NTP servers {}", n.ntp_mode == NtpMode::replace ? "use only" : "add",
                       fmt::join(n.ntp, ", "));
  }
  std::string fingerprint(const Env& env) const override {
    std::vector<std::string> parts = env.member.node.ntp;
    parts.push_back(to_string(env.member.node.ntp_mode));
    return fingerprint_of(parts);
  }
  Result<Outcome> apply(Env& env) override {
    Outcome out = Outcome::unchanged;
    if (env.member.node.ntp.empty()) {
      std::error_code ec;
      if (std::filesystem::remove(env.path(k_member_ntp_dropin), ec)) {
        out = Outcome::changed;
      }
    } else {
      TRY_ASSIGN(out, ensure_file(env, k_member_ntp_dropin, render(env.member.node), 0644));
    }
    if (out == Outcome::changed && env.live()) {
      TRY(env.runner.run_checked({"systemctl", "try-restart", "systemd-timesyncd.service"}));
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> make_ntp_step() { return std::make_unique<NtpStep>(); }

}  // namespace binder::firstboot::host
