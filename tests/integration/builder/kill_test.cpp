// Issue 3, "a killed build leaves a usable cache", with a real SIGKILL: a cold build of
// profiles/debian-12-test.yaml runs in its own process group against a private layer cache; once
// the base layer is committed and the system layer is being written by the libguestfs appliance
// (a qemu child of the build), the whole group is SIGKILLed. Then: no process of the build
// survives, no stale lock, `cache ls` lists only committed layers, each passes `qemu-img check`,
// `plan` shows the base as a hit, the output directory holds nothing; a re-run completes reusing
// the base; `cache gc` removes the dead build's partial files and scratch directory. Last, a
// build killed mid-export leaves the previous outputs complete and no tool running on.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
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

namespace {

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
  std::set<std::string> committed;  // digests with a .json
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
    CHECK(binder::common::hash::sha256_file(dir / line.substr(66)).value_or("") ==
          line.substr(0, 64));
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

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

TEST_CASE("builder: a SIGKILLed build leaves a usable cache", "[builder][kill]") {
  REQUIRE(fs::remove_tree(k_kill_dir));
  REQUIRE(fs::remove_tree(k_cache_home));
  REQUIRE(fs::make_directories(k_kill_dir));
  const std::vector<std::string> build_args{"build", k_profile.string(), "--output", k_out.string(),
                                            "--accel", "tcg", "--json"};

  // 1-2. A cold build in its own process group; wait until the base layer is committed and the
  // system layer's partial is being written by the appliance (a qemu of the build's group).
  auto t0 = Clock::now();
  std::string killed_pid;
  std::string partial_digest;
  {
    Child child(build_args, k_kill_dir / "killed.out", k_kill_dir / "killed.err");
    killed_pid = std::to_string(child.pid());
    auto deadline = t0 + 300s;
    std::optional<Clock::time_point> qemu_seen;
    std::uintmax_t partial_size0 = 0;
    std::string why;
    while (why.empty()) {
      if (auto st = child.poll()) {
        INFO("stdout:\n" << slurp(k_kill_dir / "killed.out"));
        INFO("stderr:\n" << slurp(k_kill_dir / "killed.err"));
        FAIL("the build ended (wait status " << *st << ") before it could be killed mid-layer");
      }
      if (Clock::now() > deadline) {
        INFO("stdout:\n" << slurp(k_kill_dir / "killed.out"));
        FAIL("no layer was being built by an appliance within 300 s");
      }
      CacheFiles c = scan_cache();
      std::optional<stdfs::path> layer_partial;
      for (const auto& p : c.partials) {
        if (p.filename().string().find(".qcow2.partial-" + killed_pid) != std::string::npos) {
          layer_partial = p;
        }
      }
      bool qemu = group_runs(child.pid(), "qemu-system");
      if (layer_partial && !c.committed.empty() && qemu) {
        std::error_code ec;
        auto size = stdfs::file_size(*layer_partial, ec);
        if (!qemu_seen || !layer_partial->filename().string().starts_with(partial_digest)) {
          qemu_seen = Clock::now();
          partial_size0 = size;
          partial_digest = layer_partial->filename().string().substr(0, 64);
        } else if (!ec && size > partial_size0) {
          why = fmt::format("the guest has written {} bytes into the partial layer",
                            size - partial_size0);
        } else if (since(*qemu_seen) > 20) {
          why = "the appliance has run 20 s";
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    auto events_before = events(slurp(k_kill_dir / "killed.out"));
    CHECK(step_outcome(events_before, "layer:base") == "built");
    CHECK(step_outcome(events_before, "layer:system").empty());

    // 3. SIGKILL the whole group: binder-image, the appliance's qemu, libguestfs' helpers.
    double at = since(t0);
    REQUIRE(::kill(-child.pid(), SIGKILL) == 0);
    int st = child.wait();
    CHECK(WIFSIGNALED(st));
    CHECK(WTERMSIG(st) == SIGKILL);
    WARN("killed the build " << at << " s after its start, " << since(*qemu_seen)
                             << " s after its appliance appeared (" << why << ")");
  }
  expect_no_survivors(std::stoi(killed_pid));

  // 4. The cache is usable. What the kill left: the committed base, the system partial, scratch.
  CacheFiles after = scan_cache();
  std::string left_names;
  for (const auto& e : stdfs::directory_iterator(k_layers)) {
    left_names += " " + e.path().filename().string();
  }
  INFO("the kill left in the cache:" << left_names);
  REQUIRE(after.committed.size() == 1);
  const std::string base_digest = *after.committed.begin();
  CHECK(partial_digest != base_digest);
  CHECK(stdfs::exists(k_layers / (partial_digest + ".qcow2.partial-" + killed_pid)));
  CHECK(stdfs::is_directory(k_layers / ("work.partial-" + killed_pid)));
  for (const auto& p : after.partials) {
    CHECK(p.filename().string().ends_with(".partial-" + killed_pid));
  }
  // No stale lock: a dead build's shared flock is gone, so an exclusive one is granted at once.
  CHECK(binder::layers::CacheLock::acquire(k_layers, binder::layers::CacheLock::Mode::exclusive));

  auto ls = run_private({"cache", "ls"});
  INFO("cache ls:\n" << ls.out << ls.err);
  CHECK(ls.exit_code == 0);
  CHECK(ls.out.find(base_digest.substr(0, 16) + "  base") != std::string::npos);
  CHECK(ls.out.find(partial_digest.substr(0, 16)) == std::string::npos);
  CHECK(ls.out.find("\n1 layer,") != std::string::npos);
  for (const auto& d : after.committed) {
    INFO("qemu-img check of layer " << d);
    auto r = binder::image::check(k_layers / (d + ".qcow2"), "qcow2");
    CHECK(r);
  }

  auto plan = run_private({"plan", k_profile.string()});
  INFO("plan:\n" << plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(plan.out.find("base    hit  " + base_digest.substr(0, 16)) != std::string::npos);
  CHECK(plan.out.find("system  miss " + partial_digest.substr(0, 16)) != std::string::npos);
  CHECK(plan.out.find("2 appliance launches needed") != std::string::npos);

  // Nothing was exported: no output, no SHA256SUMS, no manifest, no staging left behind.
  if (stdfs::exists(k_out)) {
    for (const auto& e : stdfs::directory_iterator(k_out)) {
      INFO("left in the output directory: " << e.path());
      CHECK(false);
    }
  }

  // 5. A re-run completes, reusing the base (the system and final layers are built).
  auto t1 = Clock::now();
  auto rerun = run_private(build_args);
  INFO("re-run stderr:\n" << rerun.err);
  REQUIRE(rerun.exit_code == 0);
  auto evs = events(rerun.out);
  CHECK(step_outcome(evs, "layer:base") == "cached");
  CHECK(step_outcome(evs, "layer:system") == "built");
  CHECK(step_outcome(evs, "layer:final") == "built");
  auto done = done_event(rerun.out);
  CHECK(done["layers_cached"] == 1);
  CHECK(done["layers_built"] == 2);
  CHECK(done["launches"] == 2);
  stdfs::path image = k_out / "debian-12-test.qcow2";
  REQUIRE(stdfs::exists(image));
  CHECK(binder::image::check(image, "qcow2"));
  std::string sha = binder::common::hash::sha256_file(image).value();
  std::string sbom_sha = binder::common::hash::sha256_file(k_out / "debian-12-test.spdx.json").value();
  CHECK(fs::read_file(k_out / "SHA256SUMS").value() ==
        sha + "  debian-12-test.qcow2\n" + sbom_sha + "  debian-12-test.spdx.json\n");
  auto manifest = nlohmann::json::parse(fs::read_file(k_out / "manifest.json").value());
  REQUIRE(manifest["outputs"].size() == 2);
  CHECK(manifest["outputs"][0]["sha256"] == sha);
  CHECK(manifest["layers"].size() == 3);
  double rerun_s = since(t1);
  CacheFiles built = scan_cache();
  CHECK(built.committed.size() == 3);
  CHECK(built.committed.contains(base_digest));
  CHECK(built.committed.contains(partial_digest));
  for (const auto& d : built.committed) {
    INFO("qemu-img check of layer " << d);
    CHECK(binder::image::check(k_layers / (d + ".qcow2"), "qcow2"));
  }
  // The re-run cleaned up after itself but not after the dead build: that is gc's job.
  for (const auto& p : built.partials) {
    CHECK(p.filename().string().ends_with(".partial-" + killed_pid));
  }
  CHECK(built.partials.size() == after.partials.size());

  // 6. gc removes the dead build's partial layer and scratch directory, keeps every layer.
  auto gc = run_private({"cache", "gc"});
  INFO("cache gc:\n" << gc.out << gc.err);
  CHECK(gc.exit_code == 0);
  CHECK(gc.out.find("removed 0 layers") != std::string::npos);
  CacheFiles collected = scan_cache();
  CHECK(collected.partials.empty());
  CHECK(collected.committed == built.committed);
  plan = run_private({"plan", k_profile.string()});
  CHECK(plan.out.find("0 appliance launches needed") != std::string::npos);
  ls = run_private({"cache", "ls"});
  CHECK(ls.exit_code == 0);
  CHECK(ls.out.find("\n3 layers,") != std::string::npos);

  // 7. A kill during the export stage (every layer cached, so export starts at once) while the
  // previous build's outputs are in the output directory: they stay complete and consistent.
  auto old_sums = fs::read_file(k_out / "SHA256SUMS").value();
  {
    Child child(build_args, k_kill_dir / "killed-export.out", k_kill_dir / "killed-export.err");
    // Killed once the build's qemu-img has written 16 MiB (of ~210) into the staging directory.
    // It runs in a process group of its own (common/exec), so the group kill misses it: it must
    // die with binder-image (PR_SET_PDEATHSIG in common/exec), not finish the conversion orphaned.
    std::uintmax_t staged = 0;
    for (auto deadline = Clock::now() + 120s;;) {
      if (auto st = child.poll()) {
        INFO("stderr:\n" << slurp(k_kill_dir / "killed-export.err"));
        FAIL("the build ended (wait status " << *st << ") before it could be killed mid-export");
      }
      REQUIRE(Clock::now() < deadline);
      staged = 0;
      for (const auto& d : staging_dirs(k_out)) {
        staged += tree_bytes(d);
      }
      if (staged >= (16u << 20) && group_runs(child.pid(), "qemu-img")) {
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    REQUIRE(::kill(-child.pid(), SIGKILL) == 0);
    int st = child.wait();
    CHECK(WIFSIGNALED(st));
    std::uintmax_t at_kill = 0, later = 0;
    for (const auto& d : staging_dirs(k_out)) {
      at_kill += tree_bytes(d);
    }
    std::this_thread::sleep_for(3s);
    for (const auto& d : staging_dirs(k_out)) {
      later += tree_bytes(d);
    }
    INFO("staged at the kill " << at_kill << " bytes, 3 s later " << later);
    CHECK(later <= at_kill + (8u << 20));  // else an orphaned qemu-img converted on
    expect_no_survivors(child.pid());
    CHECK(step_outcome(events(slurp(k_kill_dir / "killed-export.out")), "export").empty());
    WARN("killed the export with " << staged / (1 << 20) << " MiB of the new output staged");
  }
  // Killed while the new qcow2 was being converted, before publishing: only the three published
  // names are visible, unchanged, and SHA256SUMS describes exactly what is there.
  for (const auto& e : stdfs::directory_iterator(k_out)) {
    std::string name = e.path().filename().string();
    INFO("in the output directory after the export kill: " << name);
    CHECK((name == "debian-12-test.qcow2" || name == "debian-12-test.spdx.json" ||
           name == "SHA256SUMS" || name == "manifest.json" || name.starts_with(".binder-export-")));
  }
  CHECK(fs::read_file(k_out / "SHA256SUMS").value_or("") == old_sums);
  expect_sums_match(k_out);
  CHECK(binder::image::check(image, "qcow2"));
  // The dead build's hidden staging directory (the half-written output) is removed by the next
  // export into the same directory.
  CHECK_FALSE(staging_dirs(k_out).empty());
  auto again = run_private(build_args);
  INFO("build after the export kill:\n" << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(staging_dirs(k_out).empty());
  expect_sums_match(k_out);

  WARN("kill test: " << since(t0) << " s in all; re-run to completion " << rerun_s
                     << " s (build's own figure " << done.value("seconds", 0.0) << " s)");
}
