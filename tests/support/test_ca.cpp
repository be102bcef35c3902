// Test PKI and a small process runner for test support code. Self-contained (POSIX only) so that
// binder_test_support does not depend on binder_common's link order.
#include "support/test_ca.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "binder_paths.h"

namespace binder::test {

namespace {

std::filesystem::path make_temp_dir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  return templ;
}

}  // namespace

int run_capture(const std::vector<std::string>& argv, std::string* out, std::string* err,
                const std::string& stdin_data) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_t pid = fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  signal(SIGPIPE, SIG_IGN);
  if (!stdin_data.empty()) {
    [[maybe_unused]] auto n = write(in_pipe[1], stdin_data.data(), stdin_data.size());
  }
  close(in_pipe[1]);
  std::string o, e;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
        } else {
          (i == 0 ? o : e).append(buf, static_cast<size_t>(n));
        }
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (out)
    *out = std::move(o);
  if (err)
    *err = std::move(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TestPki TestPki::create(const std::vector<std::string>& extra_sans) {
  auto dir = make_temp_dir("binder-pki");
  std::vector<std::string> argv = {
      "/bin/sh", std::string(BINDER_TESTS_DIR) + "/support/fakes/make_test_ca.sh", dir.string()};
  argv.insert(argv.end(), extra_sans.begin(), extra_sans.end());
  std::string out, err;
  if (run_capture(argv, &out, &err) != 0) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    throw std::runtime_error("make_test_ca.sh failed: " + err);
  }
  return TestPki(dir);
}

TestPki::TestPki(TestPki&& other) noexcept : m_dir(std::move(other.m_dir)) { other.m_dir.clear(); }

TestPki::~TestPki() {
  if (!m_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
}

}  // namespace binder::test
