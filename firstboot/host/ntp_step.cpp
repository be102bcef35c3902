// Step host:ntp: the member's NTP servers (providers may mandate their own, e.g. OVH) as a
// systemd-timesyncd drop-in; timesyncd is restarted on a live system when the drop-in changed.
#include <filesystem>

#include "firstboot/host/files.hpp"
#include "firstboot/host/host_steps.hpp"

namespace binder::firstboot::host {
namespace {

constexpr std::string_view k_dropin = "/etc/systemd/timesyncd.conf.d/binder.conf";

std::string render(const std::vector<std::string>& servers) {
  std::string list;
  for (const auto& s : servers) {
    list += (list.empty() ? "" : " ") + s;
  }
  return fmt::format("# Written by binder-firstboot from the member metadata (node.ntp).\n"
                     "[Time]\nNTP={}\n", list);
}

class NtpStep : public Step {
 public:
  std::string_view id() const override { return "host:ntp"; }
  std::string describe(const Env& env) const override {
    return env.member.node.ntp.empty() ? std::string("keep the distribution's NTP servers")
                                       : fmt::format("use NTP servers {}", fmt::join(env.member.node.ntp, ", "));
  }
  std::string fingerprint(const Env& env) const override { return fingerprint_of(env.member.node.ntp); }
  Result<Outcome> apply(Env& env) override {
    Outcome out = Outcome::unchanged;
    if (env.member.node.ntp.empty()) {
      std::error_code ec;
      if (std::filesystem::remove(env.path(k_dropin), ec)) {
        out = Outcome::changed;
      }
    } else {
      TRY_ASSIGN(out, ensure_file(env, k_dropin, render(env.member.node.ntp), 0644));
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
