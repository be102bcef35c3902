// FakeS3: starts tests/support/fakes/s3_fake.py (an S3 endpoint on 127.0.0.1 that checks every
// request's SigV4 signature independently) for the given credentials, and stops it on
// destruction. Header-only; shared by the S3 client tests and the federation join tests.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

#include "binder_paths.h"

namespace binder::test {

class FakeS3 {
 public:
  FakeS3(const std::string& access_key, const std::string& secret_key,
         const std::string& bucket = "registry") {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    m_pid = fork();
    if (m_pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      std::string script = std::string(BINDER_SOURCE_DIR) + "/tests/support/fakes/s3_fake.py";
      execl(BINDER_PYTHON, BINDER_PYTHON, script.c_str(), access_key.c_str(), secret_key.c_str(),
            bucket.c_str(), nullptr);
      _exit(127);
    }
    close(fds[1]);
    FILE* f = fdopen(fds[0], "r");
    char line[32] = {};
    REQUIRE(fgets(line, sizeof line, f) != nullptr);
    fclose(f);
    m_port = std::atoi(line);
  }
  ~FakeS3() {
    kill(m_pid, SIGTERM);
    waitpid(m_pid, nullptr, 0);
  }
  FakeS3(const FakeS3&) = delete;
  FakeS3& operator=(const FakeS3&) = delete;
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(m_port); }

 private:
  pid_t m_pid = -1;
  int m_port = 0;
};

}  // namespace binder::test
