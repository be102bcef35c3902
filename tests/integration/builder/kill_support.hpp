// Helpers of kill_test.cpp: a build run as a child in its own process group (Child), the
// processes it left (procfs), the private cache's files, --json progress events, output checks.
// Header-only: one test binary.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "builder_fixture.hpp"
#include "image/qemu_img.hpp"
#include "layers/layer_cache.hpp"

extern char** environ;

using namespace builder_it;
using namespace std::chrono_literals;

namespace kill_it {

using Clock = std::chrono::steady_clock;

const stdfs::path k_kill_dir = k_dir / "kill";
const stdfs::path k_cache_home = k_dir / "kill-cache";  // private: not the shared fixture's cache
const stdfs::path k_layers = k_cache_home / "binder-image" / "layers";
const stdfs::path k_out = k_kill_dir / "out";
// The source profile itself (not the shared test.yaml, whose overlay other tests rewrite).
const stdfs::path k_profile = k_src / "profiles" / "debian-12-test.yaml";

std::map<std::string, std::string> kill_env() {
  auto env = test_env();
  env["XDG_CACHE_HOME"] = k_cache_home.string();
  // Layers go through the appliance here, so the kill lands while a guest is writing a layer
  // (host-side layers take a second or two and are covered by the same publish protocol).
  env["BINDER_IMAGE_HOST_LAYERS"] = "0";
  return env;
}

exec::Output run_private(std::vector<std::string> args,
                         std::chrono::seconds timeout = std::chrono::seconds(1200)) {
  args.insert(args.begin(), k_bin.string());
  exec::Options o;
  o.env = kill_env();
  o.timeout = timeout;
  auto r = exec::run(args, o);
  REQUIRE(r);
  return *r;
}

std::string slurp(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct ProcInfo {
  int pid = 0;
  char state = '?';
  int ppid = 0;
  int pgrp = 0;
  std::string comm;
  std::string cmdline;  // NULs as spaces
};

// Every process in /proc (those that vanish while being read are skipped).
std::vector<ProcInfo> processes() {
  std::vector<ProcInfo> out;
  std::error_code ec;
  for (stdfs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::string stat = slurp(it->path() / "stat");
    auto open = stat.find('(');
    auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= stat.size()) {
      continue;
    }
    ProcInfo p;
    p.pid = std::stoi(name);
    p.comm = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 2));
    rest >> p.state >> p.ppid >> p.pgrp;
    p.cmdline = slurp(it->path() / "cmdline");
    for (char& c : p.cmdline) {
      c = c == '\0' ? ' ' : c;
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Live (non-zombie) processes of process group `pgid`, or whose command line names our cache or
// output (tools the build runs in process groups of their own, e.g. qemu-img).
std::vector<ProcInfo> survivors(int pgid) {
  std::vector<ProcInfo> out;
  for (auto& p : processes()) {
    bool ours = p.pgrp == pgid || p.cmdline.find(k_cache_home.string()) != std::string::npos ||
                p.cmdline.find(k_kill_dir.string()) != std::string::npos;
    if (p.state != 'Z' && ours) {
      out.push_back(std::move(p));
    }
  }
  return out;
}

// The build under test: binder-image in its own process group, stdout/stderr to files. The
// destructor kills the group if a failed assertion left it running.
class Child {
 public:
  Child(const std::vector<std::string>& args, const stdfs::path& out, const stdfs::path& err) {
    // Everything exec needs is built before fork: the child only calls async-signal-safe functions.
    std::vector<std::string> argv_s{k_bin.string()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    auto env = kill_env();
    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      if (!env.contains(kv.substr(0, kv.find('=')))) {
        env_s.push_back(std::move(kv));
      }
    }
    for (const auto& [k, v] : env) {
      env_s.push_back(k + "=" + v);
    }
    std::vector<char*> argv, envp;
    for (auto& s : argv_s) {
      argv.push_back(s.data());
    }
    argv.push_back(nullptr);
    for (auto& s : env_s) {
      envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    REQUIRE(in_fd >= 0);
    REQUIRE(out_fd >= 0);
    REQUIRE(err_fd >= 0);
    m_pid = ::fork();
    REQUIRE(m_pid >= 0);
    if (m_pid == 0) {
      ::setpgid(0, 0);
      ::dup2(in_fd, 0);
      ::dup2(out_fd, 1);
      ::dup2(err_fd, 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::setpgid(m_pid, m_pid);  // also here: no window in which the group does not exist yet
    ::close(in_fd);
    ::close(out_fd);
    ::close(err_fd);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (m_pid > 0 && !m_status) {
      ::kill(-m_pid, SIGKILL);
      wait();
    }
  }

  int pid() const { return m_pid; }
  // The wait status if the child has exited (reaps it), else nullopt.
  std::optional<int> poll() {
    if (!m_status) {
      int st = 0;
      if (::waitpid(m_pid, &st, WNOHANG) == m_pid) {
        m_status = st;
      }
    }
    return m_status;
  }
  int wait() {
    while (!m_status) {
      int st = 0;
      pid_t r = ::waitpid(m_pid, &st, 0);
      if (r == m_pid) {
        m_status = st;
      } else if (r < 0 && errno != EINTR) {
        m_status = -1;
      }
    }
    return *m_status;
  }

 private:
  pid_t m_pid = -1;
  std::optional<int> m_status;
};

struct CacheFiles {
  std::set<std::string> committed;    // digests with a .json
  std::vector<stdfs::path> partials;  // *.partial-* files and directories
};

CacheFiles scan_cache() {
  CacheFiles c;
  std::error_code ec;
  for (stdfs::directory_iterator it(k_layers, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.find(".partial-") != std::string::npos) {
      c.partials.push_back(it->path());
    } else if (name.ends_with(".json")) {
      c.committed.insert(name.substr(0, name.size() - 5));
    }
  }
  return c;
}

std::vector<nlohmann::json> events(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) {
      v.push_back(std::move(j));
    }
  }
  return v;
}

// The outcome of the step_end event of `step` ("" if it did not end).
std::string step_outcome(const std::vector<nlohmann::json>& evs, const std::string& step) {
  for (const auto& e : evs) {
    if (e.value("event", "") == "step_end" && e.value("step", "") == step) {
      return e.value("outcome", "");
    }
  }
  return "";
}

// After a SIGKILL of group `pgid` (leader reaped): within 10 s no process of it is left.
void expect_no_survivors(int pgid) {
  std::vector<ProcInfo> left;
  for (auto until = Clock::now() + 10s; Clock::now() < until;) {
    left = survivors(pgid);
    if (left.empty()) {
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  for (const auto& p : left) {
    INFO("survivor " << p.pid << " (" << p.comm << "): " << p.cmdline);
    CHECK(false);
  }
  REQUIRE(left.empty());
}

// Every "<sha256>  <name>" line of <dir>/SHA256SUMS names a file of <dir> with that digest.
void expect_sums_match(const stdfs::path& dir) {
  std::istringstream in(fs::read_file(dir / "SHA256SUMS").value());
  int n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    INFO("SHA256SUMS line: " << line);
    REQUIRE(line.size() > 66);
    CHECK(binder::common::hash::sha256_file(dir / line.substr(66)).value_or("") == line.substr(0, 64));
  }
  CHECK(n > 0);
}

// The export stage's staging directories in `out`.
std::vector<stdfs::path> staging_dirs(const stdfs::path& out) {
  std::vector<stdfs::path> v;
  std::error_code ec;
  for (stdfs::directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with(".binder-export-")) {
      v.push_back(it->path());
    }
  }
  return v;
}

// Bytes allocated on disk to the regular files under `dir` (not their apparent sizes: qemu-img
// writes sparse files).
std::uintmax_t tree_bytes(const stdfs::path& dir) {
  std::uintmax_t n = 0;
  std::error_code ec;
  for (stdfs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      n += static_cast<std::uintmax_t>(st.st_blocks) * 512;
    }
  }
  return n;
}

// Whether a live process of group `pgid` (or a child of process `pgid`: common/exec gives each
// tool a group of its own) has a name starting with `prefix`.
bool group_runs(int pgid, std::string_view prefix) {
  for (const auto& p : processes()) {
    if ((p.pgrp == pgid || p.ppid == pgid) && p.state != 'Z' && p.comm.starts_with(prefix)) {
      return true;
    }
  }
  return false;
}

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace kill_it
