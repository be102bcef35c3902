// FileServer: tests/support/fakes/file_server.py serving a directory over HTTPS on 127.0.0.1 with
// a test PKI's server certificate, under a URL prefix (e.g. /releases/noble/release-YYYYMMDD, as
// cloud-images.ubuntu.com lays out a release), stopped on destruction. Header-only; Catch2
// REQUIREs on failure to start. The cloud image tests serve ci/make-test-cloudimg's output with it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "binder_paths.h"

namespace binder::test {

class FileServer {
 public:
  FileServer(const std::filesystem::path& root, const std::filesystem::path& cert,
             const std::filesystem::path& key, std::string prefix)
      : m_prefix(std::move(prefix)) {
    std::string script = std::string(BINDER_SOURCE_DIR) + "/tests/support/fakes/file_server.py";
    std::string r = root.string(), c = cert.string(), k = key.string();
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    m_pid = ::fork();
    REQUIRE(m_pid >= 0);
    if (m_pid == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execl(BINDER_PYTHON, BINDER_PYTHON, script.c_str(), "--root", r.c_str(), "--tls-cert", c.c_str(),
              "--tls-key", k.c_str(), "--prefix", m_prefix.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string line;
    char ch;
    while (::read(fds[0], &ch, 1) == 1 && ch != '\n')
      line.push_back(ch);
    ::close(fds[0]);
    REQUIRE(line.starts_with("PORT "));
    m_port = std::stoi(line.substr(5));
  }
  FileServer(const FileServer&) = delete;
  FileServer& operator=(const FileServer&) = delete;
  ~FileServer() {
    ::kill(m_pid, SIGTERM);
    ::waitpid(m_pid, nullptr, 0);
  }
  // https://127.0.0.1:<port><prefix>
  std::string url() const { return "https://127.0.0.1:" + std::to_string(m_port) + m_prefix; }

 private:
  std::string m_prefix;
  pid_t m_pid = -1;
  int m_port = 0;
};

}  // namespace binder::test
