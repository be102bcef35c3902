// Hygiene: the one rule table rendered as the appliance script (run here on a copy of a dirty
// tree, with a root prefix) and as host edits (libext2fs) gives the same tree, every rule done;
// each image check fails on a crafted filesystem that breaks only its property.
#include "layers/steps/hygiene.hpp"

#include <fnmatch.h>

#include <functional>
#include <map>

#include <catch2/catch.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "layers/steps/hygiene_checks.hpp"
#include "layers/steps/system_files.hpp"

using namespace binder;
using layers::steps::HygieneAction;
using layers::steps::HygieneRule;
namespace stdfs = std::filesystem;
namespace exec = common::exec;

namespace {

void put_hygiene_file(const stdfs::path& p, const std::string& data) {
  stdfs::create_directories(p.parent_path());
  REQUIRE(common::fs::write_file_atomic(p, data));
  stdfs::permissions(p, stdfs::perms(0644));
}

// A path the rule's glob matches: every '*' becomes "x".
std::string example(std::string_view glob) {
  std::string out;
  for (char c : glob) {
    out += c == '*' ? std::string("x") : std::string(1, c);
  }
  return out;
}

// A tree under `root` that breaks every rule, plus files that must survive.
void write_dirty_tree(const stdfs::path& root) {
  for (const HygieneRule& r : layers::steps::hygiene_rules()) {
    std::string p = example(r.path);
    switch (r.action) {
      case HygieneAction::empty_file:
        put_hygiene_file(root / p.substr(1), "0123456789abcdef\n");
        break;
      case HygieneAction::remove:
        // A glob's match as a file; a plain path as a directory with content.
        put_hygiene_file(root / (r.path.find('*') != std::string_view::npos ? p : p + "/x").substr(1),
                         "state\n");
        break;
      case HygieneAction::empty_dir:
        put_hygiene_file(root / (p + "/.hidden").substr(1), "h\n");
        put_hygiene_file(root / (p + "/sub/f").substr(1), "f\n");
        put_hygiene_file(root / (p + "/plain").substr(1), "p\n");
        break;
      case HygieneAction::clean_logs:
        put_hygiene_file(root / (p + "/x.log").substr(1), std::string(5000, 'l'));
        put_hygiene_file(root / (p + "/x.log.1").substr(1), "old\n");
        put_hygiene_file(root / (p + "/sub/y.gz").substr(1), "gz\n");
        put_hygiene_file(root / (p + "/sub/z").substr(1), "z\n");
        break;
      case HygieneAction::make_dir:
      case HygieneAction::resolv_conf:
        break;
    }
  }
  put_hygiene_file(root / "etc/resolv.conf", "nameserver 10.0.2.3\n");
  put_hygiene_file(root / "usr/lib/systemd/systemd-resolved", "");
  put_hygiene_file(root / "etc/ssh/sshd_config", "keep\n");
  put_hygiene_file(root / "home/x/notes.txt", "keep\n");
  put_hygiene_file(root / "var/lib/rancher/k3s/server/manifests/traefik.yaml.skip", "");
}

stdfs::path make_fs(const stdfs::path& src, const stdfs::path& raw) {
  REQUIRE(exec::run_checked(
      {"mke2fs", "-q", "-F", "-t", "ext4", "-L", "root", "-d", src.string(), raw.string(), "64M"}));
  return raw;
}

using Tree = std::map<std::string, image::Ext4Stat>;

Tree tree_of(const stdfs::path& raw) {
  auto fs = image::Ext4Fs::open(raw, 0, false);
  REQUIRE(fs);
  auto entries = fs->list_tree();
  REQUIRE(entries);
  Tree t;
  for (const auto& e : *entries) {
    if (!e.path.starts_with("/lost+found"))
      t[e.path] = e.stat;
  }
  return t;
}

bool matches(std::string_view glob, const std::string& path) {
  return ::fnmatch(std::string(glob).c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0;
}

// A directory a make_dir rule creates (after emptying its parent, e.g. apt's lists/partial).
bool made_by_a_rule(const std::string& path) {
  for (const HygieneRule& r : layers::steps::hygiene_rules()) {
    if (r.action == HygieneAction::make_dir && r.path == path)
      return true;
  }
  return false;
}

// Why `rule` does not hold in `t` ("" if it holds).
std::string violation(const HygieneRule& rule, const Tree& t) {
  std::string p(rule.path);
  auto below = [&](const std::string& path) { return path.starts_with(p + "/"); };
  switch (rule.action) {
    case HygieneAction::empty_file: {
      auto it = t.find(p);
      return it != t.end() && it->second.type == image::Ext4Stat::Type::file && it->second.size == 0
                 ? ""
                 : "not an empty file";
    }
    case HygieneAction::remove:
      for (const auto& [path, st] : t) {
        if (matches(p, path))
          return path + " exists";
      }
      return "";
    case HygieneAction::empty_dir:
      for (const auto& [path, st] : t) {
        if (below(path) && !made_by_a_rule(path))
          return path + " is inside";
      }
      return "";
    case HygieneAction::clean_logs:
      for (const auto& [path, st] : t) {
        if (!below(path) || st.type != image::Ext4Stat::Type::file)
          continue;
        std::string name = path.substr(path.rfind('/') + 1);
        if (st.size != 0)
          return path + " not truncated";
        for (const char* pat : layers::steps::k_rotated_logs) {
          if (::fnmatch(pat, name.c_str(), 0) == 0)
            return path + " is a rotated log";
        }
      }
      return "";
    case HygieneAction::make_dir: {
      auto it = t.find(p);
      return it != t.end() && it->second.type == image::Ext4Stat::Type::dir ? "" : "missing";
    }
    case HygieneAction::resolv_conf: {
      auto it = t.find(p);
      return it != t.end() && it->second.link_target == "../run/systemd/resolve/stub-resolv.conf"
                 ? ""
                 : "not the resolved stub link";
    }
  }
  return "unknown action";
}

}  // namespace

TEST_CASE("hygiene: the script and the host edits apply every rule of the table alike", "[hygiene]") {
  auto dir = common::fs::TempDir::create("hygiene-rules");
  REQUIRE(dir);
  stdfs::path src = dir->path() / "src";
  write_dirty_tree(src);
  Tree dirty = tree_of(make_fs(src, dir->path() / "dirty.raw"));

  // The shell rendering, on a copy of the tree.
  stdfs::path shell_root = dir->path() / "shell";
  REQUIRE(exec::run_checked({"cp", "-a", src.string(), shell_root.string()}));
  std::string script = layers::steps::hygiene_script(shell_root.string());
  auto ran = exec::run({"sh", "-c", script});
  REQUIRE(ran);
  INFO(script << ran->err);
  REQUIRE(ran->exit_code == 0);
  Tree shell = tree_of(make_fs(shell_root, dir->path() / "shell.raw"));

  // The host rendering, on a filesystem made from the same tree.
  stdfs::path host_raw = make_fs(src, dir->path() / "host.raw");
  {
    auto fs = image::Ext4Fs::open(host_raw, 0, true);
    REQUIRE(fs);
    fs->set_time(1700000000);
    auto r = layers::steps::host_hygiene(*fs);
    INFO((r ? std::string() : r.error().to_string()));
    REQUIRE(r);
    REQUIRE(fs->close());
  }
  Tree host = tree_of(host_raw);

  for (const HygieneRule& rule : layers::steps::hygiene_rules()) {
    INFO("rule " << rule.path << " (" << rule.reason << ")");
    CHECK_FALSE(violation(rule, dirty).empty());  // the fixture breaks every rule
    CHECK(violation(rule, shell) == "");
    CHECK(violation(rule, host) == "");
  }
  // Same tree both ways: paths, types, modes, file sizes and link targets.
  std::vector<std::string> diffs;
  for (const auto& [path, st] : shell) {
    auto it = host.find(path);
    if (it == host.end()) {
      diffs.push_back("only after the script: " + path);
    } else if (it->second.type != st.type || it->second.mode != st.mode ||
               it->second.link_target != st.link_target ||
               (st.type == image::Ext4Stat::Type::file && it->second.size != st.size)) {
      diffs.push_back(fmt::format("differs: {} (script mode {:o} size {}, host mode {:o} size {})", path,
                                  st.mode, st.size, it->second.mode, it->second.size));
    }
  }
  for (const auto& [path, st] : host) {
    if (!shell.contains(path))
      diffs.push_back("only after the host edits: " + path);
  }
  CHECK(diffs == std::vector<std::string>{});
  for (const char* kept : {"/etc/ssh/sshd_config", "/home/x/notes.txt",
                           "/var/lib/rancher/k3s/server/manifests/traefik.yaml.skip"}) {
    CHECK(host.contains(kept));
  }
}

TEST_CASE("hygiene: the script keeps the appliance session's own files in /tmp", "[hygiene]") {
  std::string s = layers::steps::hygiene_script();
  CHECK(s.starts_with("set -e\n"));
  CHECK(s.find("find /tmp -mindepth 1 -maxdepth 1 ! -name '.binder-cmd.*' -exec rm -rf {} +") !=
        std::string::npos);
  for (const HygieneRule& rule : layers::steps::hygiene_rules()) {
    CHECK(s.find(fmt::format("# {}: {}\n", rule.path, rule.reason)) != std::string::npos);
  }
}

namespace {

// A filesystem every check passes on (the binder-firstboot check included).
void write_clean_tree(const stdfs::path& root) {
  put_hygiene_file(root / "etc/machine-id", "");
  put_hygiene_file(root / "etc/resolv.conf", "nameserver 10.0.2.3\n");
  put_hygiene_file(root / "etc/ssh/sshd_config", "x\n");
  put_hygiene_file(root / "etc/systemd/system/binder-firstboot.service", "[Unit]\n");
  stdfs::create_directories(root / "etc/systemd/system/multi-user.target.wants");
  stdfs::create_symlink("../binder-firstboot.service",
                        root / "etc/systemd/system/multi-user.target.wants/binder-firstboot.service");
  put_hygiene_file(root / "usr/local/sbin/binder-firstboot", "bin");
  put_hygiene_file(root / "var/log/syslog", "");
  put_hygiene_file(root / "var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst", "zst");
  put_hygiene_file(root / "var/lib/rancher/k3s/agent/images/.cache.json", "");
  put_hygiene_file(root / "var/lib/rancher/k3s/server/manifests/traefik.yaml.skip", "");
  stdfs::create_directories(root / "var/lib/cloud");
  stdfs::create_directories(root / "var/crash");
}

std::map<std::string, layers::steps::CheckResult> checks_of(const stdfs::path& raw) {
  auto fs = image::Ext4Fs::open(raw, 0, false);
  REQUIRE(fs);
  auto checks = layers::steps::image_checks(*fs);
  REQUIRE(checks);
  std::map<std::string, layers::steps::CheckResult> out;
  for (const auto& c : *checks)
    out[c.name] = c;
  return out;
}

}  // namespace

TEST_CASE("hygiene checks: each fails on a filesystem that breaks only its property", "[hygiene]") {
  auto dir = common::fs::TempDir::create("hygiene-checks");
  REQUIRE(dir);
  stdfs::path clean = dir->path() / "clean";
  write_clean_tree(clean);
  auto base = checks_of(make_fs(clean, dir->path() / "clean.raw"));
  for (const auto& [name, c] : base) {
    INFO(name << ": " << c.detail);
    CHECK(c.ok);
  }
  struct Case {
    std::string check;
    std::function<void(const stdfs::path&)> dirty;
    std::string detail;  // part of the failed check's detail
  };
  const std::string images = "var/lib/rancher/k3s/agent/images/";
  std::vector<Case> cases = {
      {"machine-id empty", [](auto& r) { put_hygiene_file(r / "etc/machine-id", "0123456789abcdef\n"); },
       "0123456789abcdef"},
      {"no dbus machine-id", [](auto& r) { put_hygiene_file(r / "var/lib/dbus/machine-id", "x\n"); },
       "/var/lib/dbus/machine-id"},
      {"no SSH host keys", [](auto& r) { put_hygiene_file(r / "etc/ssh/ssh_host_ed25519_key", "k"); },
       "ssh_host_ed25519_key"},
      {"no k3s server state or token",
       [](auto& r) { put_hygiene_file(r / "var/lib/rancher/k3s/server/token", "t"); },
       "/var/lib/rancher/k3s/server/token"},
      {"no cloud-init instance state",
       [](auto& r) { put_hygiene_file(r / "var/lib/cloud/data/instance-id", "i-1\n"); },
       "/var/lib/cloud/data/instance-id"},
      {"no cloud-init instance state",
       [](auto& r) { put_hygiene_file(r / "var/lib/cloud/instances/i-1/boot-finished", "x\n"); },
       "/var/lib/cloud/instances/i-1"},
      {"no core files", [](auto& r) { put_hygiene_file(r / "core", "ELF"); }, "/core"},
      {"no core files", [](auto& r) { put_hygiene_file(r / "var/crash/_usr_bin_k3s.0.crash", "x"); },
       "/var/crash/_usr_bin_k3s"},
      {"no core files", [](auto& r) { put_hygiene_file(r / "var/lib/systemd/coredump/core.k3s.0.zst", "x"); },
       "coredump/core.k3s"},
      {"/var/log small",
       [](auto& r) {
         put_hygiene_file(r / "var/log/syslog", std::string(layers::steps::k_var_log_limit + 1, 'l'));
       },
       "largest /var/log/syslog"},
      {"no shell history", [](auto& r) { put_hygiene_file(r / "home/jovyan/.bash_history", "ls\n"); },
       "/home/jovyan/.bash_history"},
      {"resolv.conf ok", [](auto& r) { put_hygiene_file(r / "usr/lib/systemd/systemd-resolved", ""); },
       "regular file"},
      {"k3s import cache empty", [&](auto& r) { stdfs::remove(r / (images + ".cache.json")); }, "missing"},
      {"k3s import cache empty",
       [&](auto& r) {
         put_hygiene_file(r / (images + ".cache.json"), R"({"/var/lib/rancher/k3s/agent/images/x.tar": {}})");
       },
       "holds"},
      {"binder-firstboot installed and enabled",
       [](auto& r) { stdfs::remove(r / "usr/local/sbin/binder-firstboot"); }, "binary false"},
      {"k3s not enabled",
       [](auto& r) {
         stdfs::create_symlink("../k3s.service",
                               r / "etc/systemd/system/multi-user.target.wants/k3s.service");
       },
       "k3s.service"},
  };
  int n = 0;
  for (const auto& c : cases) {
    INFO("case " << n << ": " << c.check);
    stdfs::path root = dir->path() / fmt::format("case{}", n);
    REQUIRE(exec::run_checked({"cp", "-a", clean.string(), root.string()}));
    c.dirty(root);
    auto got = checks_of(make_fs(root, dir->path() / fmt::format("case{}.raw", n++)));
    REQUIRE(got.contains(c.check));
    CHECK_FALSE(got[c.check].ok);
    CHECK(got[c.check].detail.find(c.detail) != std::string::npos);
    INFO(got[c.check].detail);
    for (const auto& [name, r] : got) {
      INFO("other check " << name << ": " << r.detail);
      CHECK((r.ok || name == c.check));
    }
  }
}

TEST_CASE("hygiene checks: no k3s images, no import cache needed", "[hygiene]") {
  auto dir = common::fs::TempDir::create("hygiene-noimages");
  REQUIRE(dir);
  stdfs::path root = dir->path() / "root";
  write_clean_tree(root);
  stdfs::remove_all(root / "var/lib/rancher/k3s/agent");
  auto got = checks_of(make_fs(root, dir->path() / "fs.raw"));
  CHECK(got["k3s import cache empty"].ok);
  CHECK(got["k3s import cache empty"].detail == "no k3s images");
}
