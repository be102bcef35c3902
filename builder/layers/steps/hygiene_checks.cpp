// See hygiene_checks.hpp.
#include "layers/steps/hygiene_checks.hpp"

#include <guestfs.h>
#include <sys/stat.h>

#include <cstdlib>

#include "config/k3s_upgrade.hpp"
#include "layers/steps/system_files.hpp"

namespace binder::layers::steps {

using common::Result;

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
  Result<std::vector<std::string>> glob(const std::string& pattern) { return m_fs.glob(pattern); }
  // Every entry in `dir` (dotfiles too); empty if it is missing or not a directory.
  Result<std::vector<std::string>> list_all(const std::string& dir) {
    auto names = m_fs.list(dir);
    return names ? *names : std::vector<std::string>{};
  }
  // Sizes of the regular files below `dir` (symlinks not followed), by path.
  Result<std::vector<std::pair<std::string, std::uint64_t>>> file_sizes(const std::string& dir) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    TRY(walk(dir, out));
    return out;
  }

 private:
  // Like guestfs is_file/is_symlink: the final component is not followed.
  Result<bool> is(const std::string& p, image::Ext4Stat::Type type) {
    TRY_ASSIGN(auto st, m_fs.stat(p));
    return st && st->type == type;
  }
  Result<void> walk(const std::string& dir, std::vector<std::pair<std::string, std::uint64_t>>& out) {
    TRY_ASSIGN(auto names, list_all(dir));
    for (const auto& n : names) {
      std::string p = dir + "/" + n;
      TRY_ASSIGN(auto st, m_fs.stat(p));
      if (st && st->type == image::Ext4Stat::Type::file) {
        out.emplace_back(p, st->size);
      } else if (st && st->type == image::Ext4Stat::Type::dir) {
        TRY(walk(p, out));
      }
    }
    return {};
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
    if (d.ends_with('/'))
      d.remove_suffix(1);
    if (d != "/var/lib/rancher/k3s/server/manifests" && d != "/var/lib/rancher/k3s/server/static") {
      state.push_back(p);
    }
  }
  TRY_ASSIGN(auto statics, g.glob("/var/lib/rancher/k3s/server/static/*"));
  for (const auto& p : statics) {
    std::string_view d = p;
    if (d.ends_with('/'))
      d.remove_suffix(1);
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

  // cloud-init decides "new instance" from data/instance-id and instance/ -> instances/<id>/:
  // named first; anything else under /var/lib/cloud (but the empty data/ and instances/ dirs)
  // or a cloud-init log is state too.
  std::vector<std::string> cloud;
  for (const char* d : {"/var/lib/cloud/data", "/var/lib/cloud/instances"}) {
    TRY_ASSIGN(auto found, g.list_all(d));
    for (const auto& n : found)
      cloud.push_back(std::string(d) + "/" + n);
  }
  TRY_ASSIGN(bool instance, g.exists("/var/lib/cloud/instance"));
  TRY_ASSIGN(bool instance_link, g.is_symlink("/var/lib/cloud/instance"));
  if (instance || instance_link)
    cloud.push_back("/var/lib/cloud/instance");
  TRY_ASSIGN(auto cloud_rest, g.list_all("/var/lib/cloud"));
  for (const auto& n : cloud_rest) {
    if (n != "data" && n != "instance" && n != "instances")
      cloud.push_back("/var/lib/cloud/" + n);
  }
  TRY_ASSIGN(auto cloud_logs, g.glob("/var/log/cloud-init*"));
  cloud.insert(cloud.end(), cloud_logs.begin(), cloud_logs.end());
  out.push_back(check("no cloud-init instance state", cloud.empty(), join(cloud)));

  // Where core dumps land: the crashing process's cwd (/ for services; core_pattern "core"),
  // systemd-coredump and apport.
  std::vector<std::string> cores;
  for (const char* p : {"/core", "/core.*"}) {
    TRY_ASSIGN(auto found, g.glob(p));
    cores.insert(cores.end(), found.begin(), found.end());
  }
  for (const char* d : {"/var/crash", "/var/lib/systemd/coredump"}) {
    TRY_ASSIGN(auto found, g.list_all(d));
    for (const auto& n : found)
      cores.push_back(std::string(d) + "/" + n);
  }
  out.push_back(check("no core files", cores.empty(), join(cores)));

  TRY_ASSIGN(auto logs, g.file_sizes("/var/log"));
  std::uint64_t log_bytes = 0;
  std::string biggest;
  std::uint64_t biggest_size = 0;
  for (const auto& [path, size] : logs) {
    log_bytes += size;
    if (size > biggest_size) {
      biggest_size = size;
      biggest = path;
    }
  }
  out.push_back(check(
      "/var/log small", log_bytes <= k_var_log_limit,
      fmt::format("{} bytes in {} files (limit {}){}", log_bytes, logs.size(), k_var_log_limit,
                  biggest.empty() ? "" : fmt::format("; largest {} ({} bytes)", biggest, biggest_size))));

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
  out.push_back(
      check("resolv.conf ok", rc_ok, rc_link ? "-> " + target : (rc_file ? "regular file" : "missing")));

  // k3s's import cache (system_files.hpp) must be there and empty wherever images are baked: an
  // entry for a baked archive would make k3s skip its first import.
  std::string images_dir = "/" + std::string(k_k3s_images_dir);
  TRY_ASSIGN(auto images, g.list_all(images_dir));
  std::size_t archives = 0;
  for (const auto& n : images)
    archives += n.starts_with('.') ? 0 : 1;
  std::string cache_path = images_dir + "/" + std::string(k_k3s_import_cache);
  TRY_ASSIGN(bool cache_file, g.is_file(cache_path));
  std::string cache_text;
  if (cache_file) {
    TRY_ASSIGN(cache_text, g.read(cache_path));
  }
  bool cache_ok = archives == 0 || (cache_file && cache_text.empty());
  out.push_back(check("k3s import cache empty", cache_ok,
                      archives == 0 ? "no k3s images"
                      : !cache_file ? cache_path + " missing (k3s re-imports every archive at each start)"
                                    : fmt::format("{} holds {} bytes", cache_path, cache_text.size())));

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

namespace {

// image::Guest with the two listing calls checks_on() needs beyond its own API.
class GuestView {
 public:
  explicit GuestView(image::Guest& g) : m_g(g) {}
  Result<bool> is_file(const std::string& p) { return m_g.is_file(p); }
  Result<bool> is_symlink(const std::string& p) { return m_g.is_symlink(p); }
  Result<bool> exists(const std::string& p) { return m_g.exists(p); }
  Result<std::string> read(const std::string& p) { return m_g.read(p); }
  Result<std::string> readlink(const std::string& p) { return m_g.readlink(p); }
  Result<std::vector<std::string>> glob(const std::string& p) { return m_g.glob(p); }
  Result<std::vector<std::string>> list_all(const std::string& dir) {
    TRY_ASSIGN(bool is_dir, m_g.is_dir(dir));
    TRY_ASSIGN(bool link, m_g.is_symlink(dir));
    if (!is_dir || link) {
      return std::vector<std::string>{};
    }
    return take(guestfs_ls(m_g.handle(), dir.c_str()), dir);
  }
  Result<std::vector<std::pair<std::string, std::uint64_t>>> file_sizes(const std::string& dir) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    TRY_ASSIGN(bool is_dir, m_g.is_dir(dir));
    if (!is_dir) {
      return out;
    }
    // find lists paths below `dir` as "/sub/name"; lstatns reads each (a few dozen in /var/log).
    TRY_ASSIGN(auto names, take(guestfs_find(m_g.handle(), dir.c_str()), dir));
    for (const auto& n : names) {
      std::string path = dir + (n.starts_with('/') ? "" : "/") + n;
      struct guestfs_statns* st = guestfs_lstatns(m_g.handle(), path.c_str());
      if (st == nullptr) {
        return common::fail(
            common::Errc::external_tool, "reading the size of '{}': {}", path,
            guestfs_last_error(m_g.handle()) ? guestfs_last_error(m_g.handle()) : "libguestfs error");
      }
      if (S_ISREG(st->st_mode)) {
        out.emplace_back(path, static_cast<std::uint64_t>(st->st_size));
      }
      guestfs_free_statns(st);
    }
    return out;
  }

 private:
  Result<std::vector<std::string>> take(char** list, const std::string& dir) {
    if (list == nullptr) {
      return common::fail(
          common::Errc::external_tool, "listing '{}': {}", dir,
          guestfs_last_error(m_g.handle()) ? guestfs_last_error(m_g.handle()) : "libguestfs error");
    }
    std::vector<std::string> out;
    for (char** p = list; *p != nullptr; ++p) {
      out.emplace_back(*p);
      std::free(*p);
    }
    std::free(list);
    return out;
  }
  image::Guest& m_g;
};

}  // namespace

Result<std::vector<CheckResult>> image_checks(image::Guest& g) {
  GuestView v(g);
  return checks_on(v);
}

Result<void> fail_on_checks(const std::vector<CheckResult>& checks, bool firstboot) {
  for (const auto& c : checks) {
    if (!c.ok && (firstboot || !c.name.starts_with("binder-firstboot"))) {
      return common::fail(common::Errc::internal, "image check '{}' failed after hygiene: {}", c.name,
                          c.detail);
    }
  }
  return {};
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
                     !(under(path, "var/lib/rancher/k3s/server/manifests") && baked_manifest(name)) &&
                     path != "var/lib/rancher/k3s/server/manifests" &&
                     !under(path, "var/lib/rancher/k3s/server/static/charts") &&
                     path != "var/lib/rancher/k3s/server/static/charts" &&
                     path != "var/lib/rancher/k3s/server/static";
    if ((path == "etc/machine-id" && !data.empty() && data != "uninitialized\n") ||
        path == "var/lib/dbus/machine-id" || (under(path, "etc/ssh") && name.starts_with("ssh_host_")) ||
        k3s_state || path == "etc/rancher/node" || under(path, "etc/rancher/node") ||
        under(path, "var/lib/cloud") || path == "root/.bash_history" || home_history || path == "core" ||
        path.starts_with("core.") || under(path, "var/crash") || under(path, "var/lib/systemd/coredump") ||
        (path.starts_with("etc/systemd/system/") && path.ends_with(".wants/k3s.service"))) {
      bad.push_back("/" + path);
    }
  }
  return bad;
}

}  // namespace binder::layers::steps
