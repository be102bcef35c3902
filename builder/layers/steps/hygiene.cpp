// See hygiene.hpp.
#include "layers/steps/hygiene.hpp"

#include <fnmatch.h>

#include "config/k3s_upgrade.hpp"

namespace binder::layers::steps {

using common::Result;

std::string hygiene_script() {
  return R"(set -e
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /var/lib/systemd/random-seed /var/lib/systemd/credential.secret
rm -f /etc/ssh/ssh_host_*
rm -rf /var/lib/cloud/* /var/log/cloud-init*.log
rm -rf /var/lib/rancher/k3s/server/db /var/lib/rancher/k3s/server/tls \
  /var/lib/rancher/k3s/server/cred /var/lib/rancher/k3s/server/token \
  /var/lib/rancher/k3s/server/node-token /var/lib/rancher/k3s/server/agent-token \
  /var/lib/rancher/k3s/agent/client-* /var/lib/rancher/k3s/agent/server-* /etc/rancher/node
if [ -d /var/log ]; then
  find /var/log -type f \( -name '*.gz' -o -name '*.xz' -o -name '*.[0-9]' -o -name '*.old' \) -delete
  find /var/log -type f -exec truncate -s 0 {} +
  if [ -d /var/log/journal ]; then find /var/log/journal -mindepth 1 -delete; fi
fi
rm -rf /var/lib/apt/lists/*
mkdir -p /var/lib/apt/lists/partial
rm -f /var/cache/apt/*.bin
rm -f /root/.bash_history /root/.lesshst /root/.viminfo /root/.python_history /root/.wget-hsts
rm -f /home/*/.bash_history /home/*/.lesshst /home/*/.viminfo /home/*/.python_history
find /var/tmp -mindepth 1 -delete
find /tmp -mindepth 1 -maxdepth 1 ! -name '.binder-cmd.*' -exec rm -rf {} +
if [ -e /lib/systemd/systemd-resolved ] || [ -e /usr/lib/systemd/systemd-resolved ]; then
  ln -sfn ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf
elif [ -L /etc/resolv.conf ] && readlink /etc/resolv.conf | grep -q systemd/resolve; then
  rm -f /etc/resolv.conf
  : > /etc/resolv.conf
elif [ ! -e /etc/resolv.conf ] && [ ! -L /etc/resolv.conf ]; then
  : > /etc/resolv.conf
fi
)";
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

CheckResult check(std::string name, bool ok, std::string detail = "") {
  return CheckResult{std::move(name), ok, std::move(detail)};
}

// The files binder-image itself puts in k3s's server manifests dir (content, not k3s state):
// traefik.yaml.skip and the k3s.upgrade files (config/k3s_upgrade.hpp).
bool baked_manifest(std::string_view name) {
  return name == "traefik.yaml.skip" || name == config::k_suc_crd_file ||
         name == config::k_suc_controller_file || name == config::k_suc_plan_file;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    out += (out.empty() ? "" : ", ") + s;
  }
  return out;
}

}  // namespace

namespace {

// The read-only calls image_checks() makes, on an Ext4Fs (host-side layers), with the same
// meaning as image::Guest's.
class Ext4View {
 public:
  explicit Ext4View(const image::Ext4Fs& fs) : m_fs(fs) {}
  Result<bool> is_file(const std::string& p) { return is(p, image::Ext4Stat::Type::file); }
  Result<bool> is_symlink(const std::string& p) { return is(p, image::Ext4Stat::Type::symlink); }
  Result<bool> exists(const std::string& p) {
    TRY_ASSIGN(auto st, m_fs.stat(p));
    return st.has_value();
  }
  Result<std::string> read(const std::string& p) { return m_fs.read_file(p); }
  Result<std::string> readlink(const std::string& p) {
    TRY_ASSIGN(auto st, m_fs.stat(p));
    if (!st || st->type != image::Ext4Stat::Type::symlink) {
      return common::fail(common::Errc::not_found, "'{}' is not a symlink", p);
    }
    return st->link_target;
  }
  // Absolute pattern, '*' and '?' within components (fnmatch), no '**'.
  Result<std::vector<std::string>> glob(const std::string& pattern) {
    std::vector<std::string> parts;
    std::size_t pos = 1;
    while (pos <= pattern.size()) {
      std::size_t slash = pattern.find('/', pos);
      parts.push_back(pattern.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos));
      pos = slash == std::string::npos ? pattern.size() + 1 : slash + 1;
    }
    std::vector<std::string> current{""};
    for (const auto& part : parts) {
      std::vector<std::string> next;
      for (const auto& dir : current) {
        if (part.find_first_of("*?[") == std::string::npos) {
          TRY_ASSIGN(auto st, m_fs.stat(dir + "/" + part));
          if (st) {
            next.push_back(dir + "/" + part);
          }
          continue;
        }
        auto names = m_fs.list(dir.empty() ? "/" : dir);
        if (!names) {
          continue;  // not a directory: nothing below it matches
        }
        for (const auto& n : *names) {
          if (::fnmatch(part.c_str(), n.c_str(), FNM_PERIOD) == 0) {
            next.push_back(dir + "/" + n);
          }
        }
      }
      current = std::move(next);
    }
    return current;
  }

 private:
  // Like guestfs is_file/is_symlink: the final component is not followed.
  Result<bool> is(const std::string& p, image::Ext4Stat::Type type) {
    TRY_ASSIGN(auto st, m_fs.stat(p));
    return st && st->type == type;
  }
  const image::Ext4Fs& m_fs;
};

template <typename G>
Result<std::vector<CheckResult>> checks_on(G& g) {
  std::vector<CheckResult> out;

  TRY_ASSIGN(bool mid_exists, g.is_file("/etc/machine-id"));
  std::string mid;
  if (mid_exists) {
    TRY_ASSIGN(mid, g.read("/etc/machine-id"));
  }
  bool mid_ok = mid_exists && (mid.empty() || mid == "uninitialized\n");
  out.push_back(check("machine-id empty", mid_ok,
                      mid_exists ? (mid_ok ? "" : "holds '" + mid.substr(0, 32) + "'") : "missing"));
  TRY_ASSIGN(bool dbus_file, g.is_file("/var/lib/dbus/machine-id"));
  TRY_ASSIGN(bool dbus_link, g.is_symlink("/var/lib/dbus/machine-id"));
  out.push_back(check("no dbus machine-id", !dbus_file || dbus_link,
                      dbus_file && !dbus_link ? "/var/lib/dbus/machine-id exists" : ""));

  TRY_ASSIGN(auto keys, g.glob("/etc/ssh/ssh_host_*"));
  out.push_back(check("no SSH host keys", keys.empty(), join(keys)));

  TRY_ASSIGN(auto server, g.glob("/var/lib/rancher/k3s/server/*"));
  std::vector<std::string> state;
  // Besides manifests/ (traefik.yaml.skip), static/charts/ holds the baked charts k3s serves
  // at /static/charts/ (the charts layer): content, not state.
  for (const auto& p : server) {
    std::string_view d = p;
    if (d.ends_with('/')) d.remove_suffix(1);
    if (d != "/var/lib/rancher/k3s/server/manifests" && d != "/var/lib/rancher/k3s/server/static") {
      state.push_back(p);
    }
  }
  TRY_ASSIGN(auto statics, g.glob("/var/lib/rancher/k3s/server/static/*"));
  for (const auto& p : statics) {
    std::string_view d = p;
    if (d.ends_with('/')) d.remove_suffix(1);
    if (d != "/var/lib/rancher/k3s/server/static/charts") {
      state.push_back(p);
    }
  }
  TRY_ASSIGN(auto manifests, g.glob("/var/lib/rancher/k3s/server/manifests/*"));
  for (const auto& p : manifests) {
    if (!baked_manifest(p.substr(p.rfind('/') + 1))) {
      state.push_back(p);
    }
  }
  TRY_ASSIGN(bool node_pw, g.exists("/etc/rancher/node"));
  if (node_pw) {
    state.push_back("/etc/rancher/node");
  }
  out.push_back(check("no k3s server state or token", state.empty(), join(state)));

  TRY_ASSIGN(auto cloud, g.glob("/var/lib/cloud/*"));
  TRY_ASSIGN(auto cloud_logs, g.glob("/var/log/cloud-init*"));
  cloud.insert(cloud.end(), cloud_logs.begin(), cloud_logs.end());
  out.push_back(check("no cloud-init state", cloud.empty(), join(cloud)));

  TRY_ASSIGN(auto history, g.glob("/root/.bash_history"));
  TRY_ASSIGN(auto home_history, g.glob("/home/*/.bash_history"));
  history.insert(history.end(), home_history.begin(), home_history.end());
  out.push_back(check("no shell history", history.empty(), join(history)));

  TRY_ASSIGN(bool resolved1, g.exists("/lib/systemd/systemd-resolved"));
  TRY_ASSIGN(bool resolved2, g.exists("/usr/lib/systemd/systemd-resolved"));
  TRY_ASSIGN(bool rc_link, g.is_symlink("/etc/resolv.conf"));
  std::string target;
  if (rc_link) {
    TRY_ASSIGN(target, g.readlink("/etc/resolv.conf"));
  }
  TRY_ASSIGN(bool rc_file, g.is_file("/etc/resolv.conf"));
  bool rc_ok = (resolved1 || resolved2)
                   ? rc_link && target.ends_with("run/systemd/resolve/stub-resolv.conf")
                   : (rc_file || (rc_link && target.find("systemd/resolve") == std::string::npos));
  out.push_back(check("resolv.conf ok", rc_ok,
                      rc_link ? "-> " + target : (rc_file ? "regular file" : "missing")));

  TRY_ASSIGN(bool fb_unit, g.is_file("/etc/systemd/system/binder-firstboot.service"));
  TRY_ASSIGN(bool fb_enabled,
             g.is_symlink("/etc/systemd/system/multi-user.target.wants/binder-firstboot.service"));
  TRY_ASSIGN(bool fb_bin, g.is_file("/usr/local/sbin/binder-firstboot"));
  out.push_back(check("binder-firstboot installed and enabled", fb_unit && fb_enabled && fb_bin,
                      fmt::format("unit {}, enabled {}, binary {}", fb_unit, fb_enabled, fb_bin)));

  TRY_ASSIGN(auto k3s_wants, g.glob("/etc/systemd/system/*.wants/k3s.service"));
  out.push_back(check("k3s not enabled", k3s_wants.empty(), join(k3s_wants)));
  return out;
}

}  // namespace

Result<std::vector<CheckResult>> image_checks(image::Guest& g) { return checks_on(g); }

Result<void> fail_on_checks(const std::vector<CheckResult>& checks, bool firstboot) {
  for (const auto& c : checks) {
    if (!c.ok && (firstboot || !c.name.starts_with("binder-firstboot"))) {
      return common::fail(common::Errc::internal, "image check '{}' failed after hygiene: {}", c.name,
                          c.detail);
    }
  }
  return {};
}

namespace {

// Names in `dir` (empty if it is missing or not a directory).
std::vector<std::string> names_in(const image::Ext4Fs& fs, const std::string& dir) {
  auto names = fs.list(dir);
  return names ? *names : std::vector<std::string>{};
}

Result<void> remove_matching(image::Ext4Fs& fs, const std::string& dir, const char* pattern, bool recursive) {
  for (const auto& n : names_in(fs, dir)) {
    if (::fnmatch(pattern, n.c_str(), 0) == 0) {
      TRY(fs.remove(dir + "/" + n, recursive));
    }
  }
  return {};
}

// find DIR -type f: rotated logs deleted, the rest truncated; journal contents removed.
Result<void> clean_logs(image::Ext4Fs& fs, const std::string& dir) {
  for (const auto& n : names_in(fs, dir)) {
    std::string p = dir + "/" + n;
    TRY_ASSIGN(auto st, fs.stat(p));
    if (!st) {
      continue;
    }
    if (st->type == image::Ext4Stat::Type::dir) {
      if (p == "/var/log/journal") {
        TRY(remove_matching(fs, p, "*", true));
      } else {
        TRY(clean_logs(fs, p));
      }
    } else if (st->type == image::Ext4Stat::Type::file) {
      bool rotated = false;
      for (const char* pat : {"*.gz", "*.xz", "*.[0-9]", "*.old"}) {
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

}  // namespace

Result<void> host_hygiene(image::Ext4Fs& fs) {
  image::TarBuilder add;  // what the script creates
  TRY_ASSIGN(auto mid, fs.stat("/etc/machine-id"));
  if (mid && mid->type == image::Ext4Stat::Type::file) {
    TRY(fs.truncate("/etc/machine-id"));
  } else {
    TRY(fs.remove("/etc/machine-id", false));
    add.add_file("etc/machine-id", "", 0444);
  }
  for (const char* p : {"/var/lib/dbus/machine-id", "/var/lib/systemd/random-seed",
                        "/var/lib/systemd/credential.secret"}) {
    TRY(fs.remove(p, false));
  }
  TRY(remove_matching(fs, "/etc/ssh", "ssh_host_*", false));
  TRY(remove_matching(fs, "/var/lib/cloud", "*", true));
  TRY(remove_matching(fs, "/var/log", "cloud-init*.log", false));
  for (const char* p : {"/var/lib/rancher/k3s/server/db", "/var/lib/rancher/k3s/server/tls",
                        "/var/lib/rancher/k3s/server/cred", "/var/lib/rancher/k3s/server/token",
                        "/var/lib/rancher/k3s/server/node-token", "/var/lib/rancher/k3s/server/agent-token",
                        "/etc/rancher/node"}) {
    TRY(fs.remove(p, true));
  }
  TRY(remove_matching(fs, "/var/lib/rancher/k3s/agent", "client-*", true));
  TRY(remove_matching(fs, "/var/lib/rancher/k3s/agent", "server-*", true));
  TRY(clean_logs(fs, "/var/log"));
  TRY(remove_matching(fs, "/var/lib/apt/lists", "*", true));
  TRY_ASSIGN(auto lists, fs.stat("/var/lib/apt/lists"));
  if (lists) {
    add.add_dir("var/lib/apt/lists/partial", 0755);
  }
  TRY(remove_matching(fs, "/var/cache/apt", "*.bin", false));
  for (const char* n : {".bash_history", ".lesshst", ".viminfo", ".python_history", ".wget-hsts"}) {
    TRY(fs.remove(std::string("/root/") + n, false));
  }
  for (const auto& home : names_in(fs, "/home")) {
    for (const char* n : {".bash_history", ".lesshst", ".viminfo", ".python_history"}) {
      TRY(fs.remove("/home/" + home + "/" + n, false));
    }
  }
  TRY(remove_matching(fs, "/var/tmp", "*", true));
  TRY(remove_matching(fs, "/tmp", "*", true));
  TRY(remove_matching(fs, "/var/tmp", ".*", true));
  TRY(remove_matching(fs, "/tmp", ".*", true));
  TRY_ASSIGN(auto resolved1, fs.stat("/lib/systemd/systemd-resolved"));
  TRY_ASSIGN(auto resolved2, fs.stat("/usr/lib/systemd/systemd-resolved"));
  TRY_ASSIGN(auto rc, fs.stat("/etc/resolv.conf"));
  if (resolved1 || resolved2) {
    add.add_symlink("etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf");
  } else if (rc && rc->type == image::Ext4Stat::Type::symlink &&
             rc->link_target.find("systemd/resolve") != std::string::npos) {
    TRY(fs.remove("/etc/resolv.conf", false));
    add.add_file("etc/resolv.conf", "", 0644);
  } else if (!rc) {
    add.add_file("etc/resolv.conf", "", 0644);
  }
  return fs.apply(add, fs.time());
}

Result<std::vector<CheckResult>> image_checks(const image::Ext4Fs& fs) {
  Ext4View v(fs);
  return checks_on(v);
}

std::vector<std::string> tree_hygiene(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> bad;
  auto under = [](const std::string& p, std::string_view dir) {
    return p.size() > dir.size() && p.starts_with(dir) && p[dir.size()] == '/';
  };
  for (const auto& [path, data] : files) {
    std::string name = path.substr(path.rfind('/') + 1);
    bool home_history = path.starts_with("home/") && name == ".bash_history";
    bool k3s_state = under(path, "var/lib/rancher/k3s/server") &&
                     !(under(path, "var/lib/rancher/k3s/server/manifests") &&
                       baked_manifest(name)) &&
                     path != "var/lib/rancher/k3s/server/manifests" &&
                     !under(path, "var/lib/rancher/k3s/server/static/charts") &&
                     path != "var/lib/rancher/k3s/server/static/charts" &&
                     path != "var/lib/rancher/k3s/server/static";
    if ((path == "etc/machine-id" && !data.empty() && data != "uninitialized\n") ||
        path == "var/lib/dbus/machine-id" || (under(path, "etc/ssh") && name.starts_with("ssh_host_")) ||
        k3s_state || path == "etc/rancher/node" || under(path, "etc/rancher/node") ||
        under(path, "var/lib/cloud") || path == "root/.bash_history" || home_history ||
        (path.starts_with("etc/systemd/system/") && path.ends_with(".wants/k3s.service"))) {
      bad.push_back("/" + path);
    }
  }
  return bad;
}

}  // namespace binder::layers::steps
