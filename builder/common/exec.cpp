// See exec.hpp. fork/exec with pipes and poll; the child gets its own process group so a timeout
// kills everything it started. Being in its own group, the child gets no terminal Ctrl-C and
// survives a kill of ours, so it is SIGKILLed when we die (PR_SET_PDEATHSIG): a killed build
// leaves no qemu-img writing on in the background.
#include "common/exec.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace binder::common::exec {
namespace {

std::string tail_lines(const std::string& text, int n) {
  std::size_t pos = text.size();
  while (pos > 0 && (text[pos - 1] == '\n' || text[pos - 1] == ' ')) {
    --pos;
  }
  std::size_t end = pos;
  int lines = 0;
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++lines == n) {
      break;
    }
    --pos;
  }
  return text.substr(pos, end - pos);
}

}  // namespace

std::optional<std::filesystem::path> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? std::optional<std::filesystem::path>(name) : std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) {
      end = dirs.size();
    }
    std::filesystem::path candidate = std::filesystem::path(dirs.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::string quote_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) {
      out += ' ';
    }
    bool plain = !a.empty() && a.find_first_of(" \t'\"\\$") == std::string::npos;
    out += plain ? a : "'" + a + "'";
  }
  return out;
}

Result<Output> run(const std::vector<std::string>& argv, const Options& options) {
  BINDER_ASSERT(!argv.empty());
  auto program = find_program(argv[0]);
  if (!program) {
    return fail(Errc::not_found, "program '{}' not found in PATH", argv[0]);
  }
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC)) {
    return fail(Errc::io, "creating pipes: {}", std::strerror(errno));
  }
  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto key = kv.substr(0, kv.find('='));
    if (!options.env.contains(key)) {
      env_storage.push_back(std::move(kv));
    }
  }
  for (const auto& [k, v] : options.env) {
    env_storage.push_back(k + "=" + v);
  }
  std::vector<char*> envp;
  for (auto& s : env_storage) {
    envp.push_back(s.data());
  }
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    return fail(Errc::io, "fork: {}", std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    // The calling thread waits for the child, so only our death can fire this.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
      _exit(127);
    }
    ::dup2(in_pipe[0], 0);
    if (options.capture_stdout) {
      ::dup2(out_pipe[1], 1);
    }
    if (options.capture_stderr) {
      ::dup2(err_pipe[1], 2);
    }
    ::signal(SIGPIPE, SIG_DFL);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
      _exit(127);
    }
    ::execve(program->c_str(), args.data(), envp.data());
    _exit(127);
  }
  ::setpgid(pid, pid);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  Output result;
  auto deadline =
      options.timeout ? std::optional(std::chrono::steady_clock::now() + *options.timeout) : std::nullopt;
  std::size_t in_off = 0;
  int in_fd = in_pipe[1];
  if (options.stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  while (out_fd >= 0 || err_fd >= 0 || in_fd >= 0) {
    pollfd fds[3];
    int nfds = 0;
    if (out_fd >= 0)
      fds[nfds++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0)
      fds[nfds++] = {err_fd, POLLIN, 0};
    if (in_fd >= 0)
      fds[nfds++] = {in_fd, POLLOUT, 0};
    int wait_ms = -1;
    if (deadline) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        result.timed_out = true;
        ::kill(-pid, SIGKILL);
        break;
      }
      wait_ms = static_cast<int>(std::min<long long>(left.count(), 1000));
    }
    int r = ::poll(fds, nfds, wait_ms);
    if (r < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < nfds; ++i) {
      if (!fds[i].revents)
        continue;
      if (fds[i].fd == in_fd) {
        ssize_t n = ::write(in_fd, options.stdin_data.data() + in_off, options.stdin_data.size() - in_off);
        if (n > 0)
          in_off += static_cast<std::size_t>(n);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
          in_off = options.stdin_data.size();
        if (in_off >= options.stdin_data.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[65536];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (fds[i].fd == out_fd ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fds[i].fd);
        (fds[i].fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0)
      ::close(fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

Result<Output> run_checked(const std::vector<std::string>& argv, const Options& options) {
  TRY_ASSIGN(Output out, run(argv, options));
  if (out.timed_out) {
    return fail(Errc::external_tool, "'{}' timed out after {}s", quote_argv(argv),
                options.timeout ? options.timeout->count() / 1000 : 0);
  }
  if (out.exit_code != 0) {
    std::string detail = tail_lines(out.err.empty() ? out.out : out.err, 5);
    std::string status = out.signal ? fmt::format("killed by signal {}", out.signal)
                                    : fmt::format("exit status {}", out.exit_code);
    return fail(Errc::external_tool, "'{}' failed ({}){}{}", quote_argv(argv), status,
                detail.empty() ? "" : ": ", detail);
  }
  return out;
}

}  // namespace binder::common::exec
