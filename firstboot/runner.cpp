// The step runner and the run lock. See runner.hpp.
#include "firstboot/runner.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fs.hpp"
#include "common/log.hpp"

namespace binder::firstboot {

namespace log = common::log;

Result<RunLock> RunLock::acquire(const std::filesystem::path& path) {
  TRY(common::fs::make_directories(path.parent_path()));
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return common::fail(Errc::io, "opening lock '{}': {}", path.string(), std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return common::fail(Errc::temporary, "another binder-firstboot holds '{}'", path.string());
    }
    return common::fail(Errc::io, "locking '{}': {}", path.string(), std::strerror(err));
  }
  return RunLock(fd);
}

RunLock::~RunLock() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

Result<RunSummary> run_steps(StepList& steps, Env& env, Journal& journal, StepObserver* observer) {
  auto changed = [&] {
    if (observer != nullptr)
      observer->step_changed();
  };
  RunSummary summary;
  summary.total = static_cast<int>(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    Step& step = *steps[i];
    std::string id(step.id());
    env.current_step = id;
    log::set_prefix(fmt::format("step '{}': ", id));
    std::string fp = step.fingerprint(env);
    if (journal.is_complete(id, fp)) {
      log::info("already done, skipping");
      ++summary.skipped;
      continue;
    }
    auto prev = journal.last_state(id);
    if (prev && prev->event == JournalEvent::begin) {
      log::notice("interrupted in an earlier run, resuming");
    }
    log::info("{} ({}/{})", step.describe(env), i + 1, steps.size());
    TRY(journal.append(id, fp, JournalEvent::begin));
    changed();

    auto record_failure = [&](Error e) -> Result<RunSummary> {
      e.with_context(fmt::format("step '{}'", id));
      auto r = journal.append_failure(id, fp, e);
      log::set_prefix("");
      if (!r) {
        log::warn("could not journal the failure: {}, ignoring", r.error().to_string());
      }
      changed();
      return std::unexpected(std::move(e));
    };

    auto satisfied = step.is_satisfied(env);
    if (!satisfied) {
      return record_failure(satisfied.error());
    }
    if (*satisfied) {
      TRY(journal.append(id, fp, JournalEvent::adopted, "already satisfied"));
      changed();
      log::info("already satisfied, adopted");
      ++summary.adopted;
      continue;
    }
    auto outcome = step.apply(env);
    if (!outcome) {
      return record_failure(outcome.error());
    }
    TRY(journal.append(id, fp, JournalEvent::done, to_string(*outcome)));
    changed();
    log::info("applied ({})", to_string(*outcome));
    ++(*outcome == Outcome::changed ? summary.changed : summary.unchanged);
  }
  log::set_prefix("");
  env.current_step.clear();
  TRY(common::fs::write_file_atomic(env.path(k_complete_path),
                                    fmt::format("completed {} steps\n", summary.total), 0644));
  return summary;
}

}  // namespace binder::firstboot
