// The runner: takes the lock, walks the steps in order against the journal, stops at the first
// failure, writes the completion marker (layout-proposal §3.10 runner semantics).
//   - journal says done/adopted with the same fingerprint: skip ("already done, skipping");
//   - else append begin; is_satisfied() -> adopted; else apply() -> done changed|unchanged, or
//     failed <message>;
//   - all done: /var/lib/binder-firstboot/complete written atomically.
// Log lines carry the step as prefix ("step 'host:ntp': ").
#pragma once

#include <filesystem>
#include <string>

#include "common/result.hpp"
#include "firstboot/env.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/step.hpp"

namespace binder::firstboot {

// Paths relative to the root (Env::path maps them).
inline constexpr std::string_view k_state_dir = "/var/lib/binder-firstboot";
inline constexpr std::string_view k_journal_path = "/var/lib/binder-firstboot/journal";
inline constexpr std::string_view k_complete_path = "/var/lib/binder-firstboot/complete";
inline constexpr std::string_view k_member_json_path = "/var/lib/binder-firstboot/member.json";
inline constexpr std::string_view k_lock_path = "/run/binder-firstboot.lock";

// An exclusive flock held for the object's lifetime. Errc::temporary when another instance
// holds it.
class RunLock {
 public:
  static Result<RunLock> acquire(const std::filesystem::path& path);
  RunLock(RunLock&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }
  ~RunLock();

 private:
  explicit RunLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

struct RunSummary {
  int total = 0;
  int skipped = 0;  // already done
  int adopted = 0;
  int changed = 0;
  int unchanged = 0;
};

// Told after every journaled change of a step's state (begin, done, adopted, failed), e.g. to
// refresh the console status block. Must not fail the run (it returns nothing).
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  virtual void step_changed() = 0;
};

// Runs `steps` in order; env.outputs must be `journal`. On the first failure returns that
// step's error (with context "step '<id>'"), after recording it in the journal (with the
// error's hint). `observer` (optional) hears of each change.
Result<RunSummary> run_steps(StepList& steps, Env& env, Journal& journal, StepObserver* observer = nullptr);

}  // namespace binder::firstboot
