// Step host:hostname: /etc/hostname holds the member name; on a live system the kernel hostname
// is set with hostnamectl (so journald, k3s's node name default and prompts agree at once).
#include "common/log.hpp"
#include "firstboot/host/files.hpp"
#include "firstboot/host/host_steps.hpp"

namespace binder::firstboot::host {
namespace {

class HostnameStep : public Step {
 public:
  std::string_view id() const override { return "host:hostname"; }
  std::string describe(const Env& env) const override {
    return fmt::format("set the hostname to '{}'", env.member.name);
  }
  std::string fingerprint(const Env& env) const override { return fingerprint_of({env.member.name}); }
  Result<Outcome> apply(Env& env) override {
    TRY_ASSIGN(Outcome out, ensure_file(env, "/etc/hostname", env.member.name + "\n", 0644));
    if (env.live()) {
      TRY_ASSIGN(auto cur, env.runner.run({"hostname"}));
      if (trim(cur.out) != env.member.name) {
        TRY(env.runner.run_checked({"hostnamectl", "set-hostname", env.member.name}));
        out = Outcome::changed;
      }
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> make_hostname_step() { return std::make_unique<HostnameStep>(); }

}  // namespace binder::firstboot::host
