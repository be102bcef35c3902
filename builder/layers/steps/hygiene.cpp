// See hygiene.hpp.
#include "layers/steps/hygiene.hpp"

#include <fnmatch.h>
#include <guestfs.h>
#include <sys/stat.h>

#include <cstdlib>

#include "config/k3s_upgrade.hpp"
#include "layers/steps/system_files.hpp"

namespace binder::layers::steps {

using common::Result;

const std::vector<HygieneRule>& hygiene_rules() {
  using A = HygieneAction;
  constexpr std::string_view k3s_state = "k3s cluster state: each member starts its own cluster";
  constexpr std::string_view history = "shell history of whoever built the image";
  constexpr std::string_view core = "crash dumps hold process memory";
  static const std::vector<HygieneRule> rules = {
      {"/etc/machine-id", A::empty_file, "systemd makes a new id at first boot; clones must not share one"},
      {"/var/lib/dbus/machine-id", A::remove, "dbus's copy of the machine id"},
      {"/var/lib/systemd/random-seed", A::remove, "clones must not start from the same RNG seed"},
      {"/var/lib/systemd/credential.secret", A::remove, "this host's credential encryption key"},
      {"/etc/ssh/ssh_host_*", A::remove, "host keys are made per VM at first boot"},
      {"/var/lib/cloud", A::empty_dir, "cloud-init instance state: each clone is a new instance"},
      {"/var/log/cloud-init*.log", A::remove, "logs of a cloud-init run"},
      {"/var/lib/rancher/k3s/server/db", A::remove, k3s_state},
      {"/var/lib/rancher/k3s/server/tls", A::remove, k3s_state},
      {"/var/lib/rancher/k3s/server/cred", A::remove, k3s_state},
      {"/var/lib/rancher/k3s/server/token", A::remove, k3s_state},
      {"/var/lib/rancher/k3s/server/node-token", A::remove, k3s_state},
      {"/var/lib/rancher/k3s/server/agent-token", A::remove, k3s_state},
      {"/var/lib/rancher/k3s/agent/client-*", A::remove, "k3s agent certificates"},
      {"/var/lib/rancher/k3s/agent/server-*", A::remove, "k3s agent certificates"},
      {"/etc/rancher/node", A::remove, "k3s node password"},
      {"/core", A::remove, core},
      {"/core.*", A::remove, core},
      {"/var/crash", A::empty_dir, core},
      {"/var/lib/systemd/coredump", A::empty_dir, core},
      {"/var/log/journal", A::empty_dir, "the build's journal"},
      {"/var/log", A::clean_logs, "logs of the build; /var/log stays small"},
      {"/var/lib/apt/lists", A::empty_dir, "package indexes are stale by first boot"},
      {"/var/lib/apt/lists/partial", A::make_dir, "apt expects it"},
      {"/var/cache/apt/*.bin", A::remove, "apt's caches of those indexes"},
      {"/root/.bash_history", A::remove, history},
      {"/root/.lesshst", A::remove, history},
      {"/root/.viminfo", A::remove, history},
      {"/root/.python_history", A::remove, history},
      {"/root/.wget-hsts", A::remove, history},
      {"/home/*/.bash_history", A::remove, history},
      {"/home/*/.lesshst", A::remove, history},
      {"/home/*/.viminfo", A::remove, history},
      {"/home/*/.python_history", A::remove, history},
      {"/home/*/.wget-hsts", A::remove, history},
      {"/var/tmp", A::empty_dir, "temporary files of the build"},
      {"/tmp", A::empty_dir, "temporary files of the build"},
      {"/etc/resolv.conf", A::resolv_conf, "the build's resolver is not the VM's"},
  };
  return rules;
}

namespace {

// The session's own files in /tmp (image::Guest::run), which the running script must keep.
constexpr std::string_view k_session_files = ".binder-cmd.*";

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

}  // namespace

std::string hygiene_script(std::string_view root) {
  // Paths keep their wildcards outside quotes; the root prefix is quoted.
  std::string r = root.empty() ? "" : shell_quote(root);
  auto p = [&](std::string_view path) { return r + std::string(path); };
  std::string out = "set -e\n";
  for (const auto& rule : hygiene_rules()) {
    std::string path = p(rule.path);
    out += fmt::format("# {}: {}\n", rule.path, rule.reason);
    switch (rule.action) {
      case HygieneAction::empty_file:
        out += fmt::format(
            "if [ -f {0} ] && [ ! -L {0} ]; then : > {0}; else rm -f {0}; : > {0}; chmod 0444 {0}; fi\n",
            path);
        break;
      case HygieneAction::remove:
        out += fmt::format("rm -rf {}\n", path);
        break;
      case HygieneAction::empty_dir:
        out += fmt::format(
            "if [ -d {0} ] && [ ! -L {0} ]; then find {0} -mindepth 1 -maxdepth 1{1} -exec rm -rf {{}} +; fi\n",
            path, rule.path == "/tmp" ? fmt::format(" ! -name '{}'", k_session_files) : "");
        break;
      case HygieneAction::clean_logs: {
        std::string names;
        for (const char* pat : k_rotated_logs) {
          names += fmt::format("{}-name '{}'", names.empty() ? "" : " -o ", pat);
        }
        out += fmt::format(
            "if [ -d {0} ] && [ ! -L {0} ]; then\n"
            "  find {0} -type f \\( {1} \\) -delete\n"
            "  find {0} -type f -exec truncate -s 0 {{}} +\n"
            "fi\n",
            path, names);
        break;
      }
      case HygieneAction::make_dir: {
        std::string_view parent = rule.path.substr(0, rule.path.rfind('/'));
        out += fmt::format("if [ -d {} ] && [ ! -e {} ]; then mkdir -m 0755 {}; fi\n", p(parent), path, path);
        break;
      }
      case HygieneAction::resolv_conf:
        out += fmt::format(
            "if [ -e {0} ] || [ -e {1} ]; then\n"
            "  ln -sfn ../run/systemd/resolve/stub-resolv.conf {2}\n"
            "elif [ -L {2} ] && readlink {2} | grep -q systemd/resolve; then\n"
            "  rm -f {2}\n"
            "  : > {2}\n"
            "elif [ ! -e {2} ] && [ ! -L {2} ]; then\n"
            "  : > {2}\n"
            "fi\n",
            p("/lib/systemd/systemd-resolved"), p("/usr/lib/systemd/systemd-resolved"), path);
        break;
    }
  }
  return out;
}

std::string normalize_times_script(std::int64_t epoch) {
  return fmt::format(R"(set -e
find / -xdev -newer {0} ! -path {0} -exec touch -h -d @{1} {{}} +
rm -f {0}
touch -h -d @{1} /
)",
                     k_session_marker, epoch);
}

namespace {

// Names in `dir` (empty if it is missing or not a directory).
std::vector<std::string> names_in(const image::Ext4Fs& fs, const std::string& dir) {
  auto names = fs.list(dir);
  return names ? *names : std::vector<std::string>{};
}

Result<bool> is_type(const image::Ext4Fs& fs, const std::string& p, image::Ext4Stat::Type type) {
  TRY_ASSIGN(auto st, fs.stat(p));
  return st && st->type == type;
}

// find DIR -type f: rotated logs deleted, the rest truncated (symlinks not followed).
Result<void> clean_logs(image::Ext4Fs& fs, const std::string& dir) {
  for (const auto& n : names_in(fs, dir)) {
    std::string p = dir + "/" + n;
    TRY_ASSIGN(auto st, fs.stat(p));
    if (!st) {
      continue;
    }
    if (st->type == image::Ext4Stat::Type::dir) {
      TRY(clean_logs(fs, p));
    } else if (st->type == image::Ext4Stat::Type::file) {
      bool rotated = false;
      for (const char* pat : k_rotated_logs) {
        rotated = rotated || ::fnmatch(pat, n.c_str(), 0) == 0;
      }
      if (rotated) {
        TRY(fs.remove(p, false));
      } else {
        TRY(fs.truncate(p));
      }
    }
  }
  return {};
}

// One rule on the host; what it creates goes into `add` (applied after every rule).
Result<void> apply_rule(image::Ext4Fs& fs, const HygieneRule& rule, image::TarBuilder& add) {
  using Type = image::Ext4Stat::Type;
  std::string path(rule.path);
  std::string rel = path.substr(1);
  switch (rule.action) {
    case HygieneAction::empty_file: {
      TRY_ASSIGN(bool file, is_type(fs, path, Type::file));
      if (file) {
        TRY(fs.truncate(path));
      } else {
        TRY(fs.remove(path, false));
        add.add_file(rel, "", 0444);
      }
      return {};
    }
    case HygieneAction::remove: {
      TRY_ASSIGN(auto matches, fs.glob(path));
      for (const auto& m : matches) {
        TRY(fs.remove(m, true));
      }
      return {};
    }
    case HygieneAction::empty_dir: {
      TRY_ASSIGN(bool dir, is_type(fs, path, Type::dir));
      for (const auto& n : dir ? names_in(fs, path) : std::vector<std::string>{}) {
        TRY(fs.remove(path + "/" + n, true));
      }
      return {};
    }
    case HygieneAction::clean_logs: {
      TRY_ASSIGN(bool dir, is_type(fs, path, Type::dir));
      return dir ? clean_logs(fs, path) : Result<void>{};
    }
    case HygieneAction::make_dir: {
      TRY_ASSIGN(bool parent, is_type(fs, path.substr(0, path.rfind('/')), Type::dir));
      TRY_ASSIGN(auto st, fs.stat(path));
      if (parent && !st) {
        add.add_dir(rel, 0755);
      }
      return {};
    }
    case HygieneAction::resolv_conf: {
      TRY_ASSIGN(auto resolved1, fs.stat("/lib/systemd/systemd-resolved"));
      TRY_ASSIGN(auto resolved2, fs.stat("/usr/lib/systemd/systemd-resolved"));
      TRY_ASSIGN(auto rc, fs.stat(path));
      if (resolved1 || resolved2) {
        add.add_symlink(rel, "../run/systemd/resolve/stub-resolv.conf");
      } else if (rc && rc->type == Type::symlink &&
                 rc->link_target.find("systemd/resolve") != std::string::npos) {
        TRY(fs.remove(path, false));
        add.add_file(rel, "", 0644);
      } else if (!rc) {
        add.add_file(rel, "", 0644);
      }
      return {};
    }
  }
  return {};
}

}  // namespace

Result<void> host_hygiene(image::Ext4Fs& fs) {
  image::TarBuilder add;  // what the rules create
  for (const auto& rule : hygiene_rules()) {
    TRY_CTX(apply_rule(fs, rule, add), "hygiene rule '{}'", rule.path);
  }
  return fs.apply(add, fs.time());
}

}  // namespace binder::layers::steps
