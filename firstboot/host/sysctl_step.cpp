// Step host:sysctl: the inotify limits BinderHub needs (spec §1 step 3: without them pods fail
// with "too many open files"), persisted in /etc/sysctl.d/60-binder.conf next to whatever the
// image build put there, and applied to the running kernel.
#include <algorithm>
#include <map>

#include "common/fs.hpp"
#include "firstboot/host/files.hpp"
#include "firstboot/host/host_steps.hpp"

namespace binder::firstboot::host {
namespace {

constexpr std::string_view k_conf = "/etc/sysctl.d/60-binder.conf";

const std::vector<std::pair<std::string, std::string>>& wanted() {
  static const std::vector<std::pair<std::string, std::string>> k = {
      {"fs.inotify.max_user_instances", "8192"},
      {"fs.inotify.max_user_watches", "524288"},
  };
  return k;
}

// "a.b.c = v" -> (a.b.c, v); comments and blanks -> ("", "").
std::pair<std::string, std::string> parse_line(std::string_view line) {
  std::string l = trim(line);
  if (l.empty() || l[0] == '#' || l[0] == ';') {
    return {};
  }
  auto eq = l.find('=');
  if (eq == std::string::npos) {
    return {};
  }
  return {trim(l.substr(0, eq)), trim(l.substr(eq + 1))};
}

std::string proc_path(const std::string& key) {
  std::string p = "/proc/sys/" + key;
  std::replace(p.begin() + 10, p.end(), '.', '/');
  return p;
}

class SysctlStep : public Step {
 public:
  std::string_view id() const override { return "host:sysctl"; }
  std::string describe(const Env&) const override {
    return fmt::format("persist and apply sysctls in {}", k_conf);
  }
  std::string fingerprint(const Env&) const override {
    std::vector<std::string> f;
    for (const auto& [k, v] : wanted()) {
      f.push_back(k + "=" + v);
    }
    return fingerprint_of(f);
  }
  Result<Outcome> apply(Env& env) override {
    TRY_ASSIGN(auto cur, common::fs::read_file_if_exists(env.path(k_conf)));
    std::vector<std::string> lines =
        cur ? split_lines(*cur)
            : std::vector<std::string>{"# Kernel settings for a BinderHub member (binder-image)."};
    std::map<std::string, bool> seen;
    for (auto& line : lines) {
      auto [k, v] = parse_line(line);
      for (const auto& [wk, wv] : wanted()) {
        if (k == wk) {
          seen[wk] = true;
          if (v != wv) {
            line = wk + " = " + wv;
          }
        }
      }
    }
    for (const auto& [wk, wv] : wanted()) {
      if (!seen[wk]) {
        lines.push_back(wk + " = " + wv);
      }
    }
    TRY_ASSIGN(Outcome out, ensure_file(env, k_conf, join_lines(lines), 0644));
    if (env.live()) {
      bool stale = false;
      for (const auto& [wk, wv] : wanted()) {
        auto running = common::fs::read_file(proc_path(wk));
        stale = stale || !running || std::stoll("0" + trim(*running)) < std::stoll(wv);
      }
      if (stale) {
        TRY(env.runner.run_checked({"sysctl", "-p", std::string(k_conf)}));
        out = Outcome::changed;
      }
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> make_sysctl_step() { return std::make_unique<SysctlStep>(); }

}  // namespace binder::firstboot::host
