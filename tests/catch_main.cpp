// The one Catch2 main shared by every test binary, with a watchdog.
//
// CTest kills a hung test without saying where it hung. BINDER_TEST_TIMEOUT (seconds; CMake sets
// it below each test's CTest TIMEOUT) bounds every test case: past it, the watchdog prints the
// test case, its current section, the elapsed time and the processes the test started (QEMU,
// binder-image, fakes), kills those, and exits 124, so the log shows the context of the hang.
#define CATCH_CONFIG_MAIN
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace {

// Every process below this one (walks /proc: a process's ppid is field 4 of /proc/PID/stat).
std::set<pid_t> descendants() {
  std::set<pid_t> found{::getpid()};
  bool grew = true;
  while (grew) {
    grew = false;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
      const std::string name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos)
        continue;
      std::ifstream stat(e.path() / "stat");
      std::string line;
      std::getline(stat, line);
      auto close = line.rfind(')');
      if (close == std::string::npos)
        continue;
      std::istringstream rest(line.substr(close + 2));
      char state = 0;
      pid_t ppid = 0;
      rest >> state >> ppid;
      const pid_t pid = static_cast<pid_t>(std::stol(name));
      if (found.count(ppid) != 0 && found.insert(pid).second)
        grew = true;
    }
  }
  found.erase(::getpid());
  return found;
}

std::string cmdline(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : s) {
    if (c == '\0')
      c = ' ';
  }
  return s.size() > 300 ? s.substr(0, 300) + " ..." : s;
}

class Watchdog {
 public:
  // Never destroyed: the detached thread may still wait on it while the process exits.
  static Watchdog& get() {
    static Watchdog* w = new Watchdog;
    return *w;
  }
  void start(const std::string& test) {
    std::lock_guard<std::mutex> l(m_mutex);
    m_test = test;
    m_sections.clear();
    m_started = std::chrono::steady_clock::now();
    m_armed = m_limit.count() > 0;
    m_cv.notify_all();
  }
  void section_push(const std::string& name) {
    std::lock_guard<std::mutex> l(m_mutex);
    m_sections.push_back(name);
  }
  void section_pop() {
    std::lock_guard<std::mutex> l(m_mutex);
    if (!m_sections.empty())
      m_sections.pop_back();
  }
  void stop() {
    std::lock_guard<std::mutex> l(m_mutex);
    m_armed = false;
  }

 private:
  Watchdog() {
    if (const char* t = std::getenv("BINDER_TEST_TIMEOUT"))
      m_limit = std::chrono::seconds(std::atoi(t));
    if (m_limit.count() > 0)
      std::thread([this] { run(); }).detach();
  }
  void run() {
    std::unique_lock<std::mutex> l(m_mutex);
    for (;;) {
      if (!m_armed) {
        m_cv.wait(l);
        continue;
      }
      const auto deadline = m_started + m_limit;
      if (m_cv.wait_until(l, deadline) == std::cv_status::timeout && m_armed &&
          std::chrono::steady_clock::now() >= m_started + m_limit) {
        fire();
      }
    }
  }
  [[noreturn]] void fire() {
    std::fprintf(stdout,
                 "\nWATCHDOG: test case '%s' still running after %lld s (BINDER_TEST_TIMEOUT); "
                 "section: '%s'\n",
                 m_test.c_str(), static_cast<long long>(m_limit.count()), sections().c_str());
    const auto kids = descendants();
    for (pid_t p : kids)
      std::fprintf(stdout, "WATCHDOG: child %d: %s\n", p, cmdline(p).c_str());
    std::fflush(stdout);
    for (pid_t p : kids)
      ::kill(p, SIGKILL);
    std::_Exit(124);
  }

  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::chrono::seconds m_limit{0};
  std::chrono::steady_clock::time_point m_started;
  bool m_armed = false;
  std::string sections() const {  // the innermost sections, outermost first (not the test case)
    std::string s;
    for (std::size_t i = 1; i < m_sections.size(); ++i)
      s += (s.empty() ? "" : " / ") + m_sections[i];
    return s;
  }

  std::string m_test;
  std::vector<std::string> m_sections;  // [0] is the test case itself
};

struct WatchdogListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    TestEventListenerBase::testCaseStarting(info);
    Watchdog::get().start(info.name);
  }
  void sectionStarting(const Catch::SectionInfo& info) override {
    TestEventListenerBase::sectionStarting(info);
    Watchdog::get().section_push(info.name);
  }
  void sectionEnded(const Catch::SectionStats& stats) override {
    Watchdog::get().section_pop();
    TestEventListenerBase::sectionEnded(stats);
  }
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    Watchdog::get().stop();
    TestEventListenerBase::testCaseEnded(stats);
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(WatchdogListener)
