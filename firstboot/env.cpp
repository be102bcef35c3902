// Env and the default seams (system command runner, system clock, in-memory outputs).
#include "firstboot/env.hpp"

#include <time.h>

#include <thread>

#include "common/log.hpp"

namespace binder::firstboot {

Result<common::exec::Output> CommandRunner::run_checked(const std::vector<std::string>& argv,
                                                        const common::exec::Options& options) {
  TRY_ASSIGN(auto out, run(argv, options));
  if (out.exit_code != 0 || out.timed_out) {
    std::string tail = out.err.size() > 400 ? out.err.substr(out.err.size() - 400) : out.err;
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) {
      tail.pop_back();
    }
    return common::fail(common::Errc::external_tool, "'{}' {}{}{}", common::exec::quote_argv(argv),
                        out.timed_out ? std::string("timed out")
                        : out.signal  ? fmt::format("killed by signal {}", out.signal)
                                      : fmt::format("exited with status {}", out.exit_code),
                        tail.empty() ? "" : ": ", tail);
  }
  return out;
}

Result<common::exec::Output> SystemCommandRunner::run(const std::vector<std::string>& argv,
                                                      const common::exec::Options& options) {
  return common::exec::run(argv, options);
}

std::chrono::system_clock::time_point SystemClock::now() { return std::chrono::system_clock::now(); }

void SystemClock::sleep(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

std::optional<std::chrono::milliseconds> SystemClock::since_boot() {
  timespec ts{};
  if (::clock_gettime(CLOCK_BOOTTIME, &ts) != 0) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000);
}

std::optional<std::string> MemoryOutputStore::get(std::string_view key) const {
  for (auto it = values.rbegin(); it != values.rend(); ++it) {
    if (it->first == key) {
      return it->second;
    }
  }
  return std::nullopt;
}

Result<void> MemoryOutputStore::put(std::string_view, std::string_view key, std::string_view value) {
  values.emplace_back(std::string(key), std::string(value));
  return {};
}

std::filesystem::path Env::path(std::string_view absolute) const {
  while (!absolute.empty() && absolute.front() == '/') {
    absolute.remove_prefix(1);
  }
  return m_root / std::filesystem::path(absolute);
}

Result<void> Env::put_output(std::string_view key, std::string_view value, bool secret) {
  if (secret) {
    common::log::add_secret(std::string(value));
  }
  return outputs.put(current_step, key, value);
}

}  // namespace binder::firstboot
