// Test doubles for the Env seams (tests only): a command runner that records argv and answers
// from a handler, a clock that never sleeps, and a temp-root Env bundle.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "firstboot/env.hpp"

namespace binder::firstboot::testing {

class FakeRunner : public CommandRunner {
 public:
  using Handler =
      std::function<common::exec::Output(const std::vector<std::string>&, const common::exec::Options&)>;
  Handler handler;  // default: exit 0, no output
  std::vector<std::vector<std::string>> calls;

  Result<common::exec::Output> run(const std::vector<std::string>& argv,
                                   const common::exec::Options& options = {}) override {
    calls.push_back(argv);
    if (handler) {
      return handler(argv, options);
    }
    return common::exec::Output{0, 0, false, {}, {}};
  }
  // Number of recorded calls whose argv[0] is `program`.
  int count(const std::string& program) const {
    int n = 0;
    for (const auto& c : calls) {
      n += (!c.empty() && c[0] == program) ? 1 : 0;
    }
    return n;
  }
};

class FakeClock : public Clock {
 public:
  std::chrono::system_clock::time_point t = std::chrono::system_clock::from_time_t(1'790'000'000);
  std::chrono::system_clock::time_point now() override { return t; }
  void sleep(std::chrono::milliseconds d) override { t += d; }
};

inline common::exec::Output ok_output(std::string out = {}) {
  return common::exec::Output{0, 0, false, std::move(out), {}};
}
inline common::exec::Output fail_output(int code, std::string err = {}) {
  return common::exec::Output{code, 0, false, {}, std::move(err)};
}

// A temp root with an Env over fakes.
struct TestRoot {
  common::fs::TempDir dir;
  FakeRunner runner;
  FakeClock clock;
  MemoryOutputStore outputs;
  std::unique_ptr<Env> env;

  explicit TestRoot(Member member = {}, MachineFacts facts = {})
      : dir(*common::fs::TempDir::create("fb-test")) {
    env = std::make_unique<Env>(dir.path(), std::move(member), std::move(facts), runner, clock, outputs);
  }
  std::filesystem::path path(std::string_view abs) const { return env->path(abs); }
  std::string read(std::string_view abs) const {
    auto r = common::fs::read_file(path(abs));
    return r ? *r : std::string("<missing>");
  }
  void write(std::string_view abs, std::string_view text) const {
    (void)common::fs::write_file_atomic(path(abs), text);
  }
};

}  // namespace binder::firstboot::testing
