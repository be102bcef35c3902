// Log sinks and secret redaction. See log.hpp.
#include "common/log.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <vector>

namespace binder::common::log {
namespace {

struct State {
  std::mutex mutex;
  Level max = Level::info;
  Sink sink = Sink::plain;
  std::vector<std::string> secrets;
  std::string prefix;
};

State& state() {
  static State s;
  return s;
}

std::string redact_locked(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const auto& s : secrets) {
    std::size_t pos = 0;
    while ((pos = out.find(s, pos)) != std::string::npos) {
      out.replace(pos, s.size(), "<redacted>");
      pos += 10;
    }
  }
  return out;
}

}  // namespace

void configure(Level max_level, Sink sink) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.max = max_level;
  if (sink == Sink::automatic) {
    sink = isatty(STDERR_FILENO) ? Sink::tty : Sink::plain;
  }
  s.sink = sink;
}

Level max_level() { return state().max; }

bool is_tty() { return state().sink == Sink::tty; }

void add_secret(std::string secret) {
  if (secret.size() < 4) {
    return;
  }
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (std::find(s.secrets.begin(), s.secrets.end(), secret) == s.secrets.end()) {
    s.secrets.push_back(std::move(secret));
    // Longest first so a secret containing another is redacted whole.
    std::sort(s.secrets.begin(), s.secrets.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
  }
}

std::string redact(std::string_view text) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  return redact_locked(text, s.secrets);
}

void set_prefix(std::string prefix) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.prefix = std::move(prefix);
}

void write(Level level, std::string_view message) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (static_cast<int>(level) > static_cast<int>(s.max)) {
    return;
  }
  std::string text = redact_locked(message, s.secrets);
  std::string line;
  switch (s.sink) {
    case Sink::journald:
      line = fmt::format("<{}>{}{}\n", static_cast<int>(level), s.prefix, text);
      break;
    case Sink::tty: {
      const char* colour = level == Level::error     ? "\x1b[1;31merror: \x1b[0m"
                           : level == Level::warning ? "\x1b[1;33mwarning: \x1b[0m"
                                                     : "";
      line = fmt::format("{}{}{}\n", colour, s.prefix, text);
      break;
    }
    default: {
      const char* tag = level == Level::error ? "error: " : level == Level::warning ? "warning: " : "";
      line = fmt::format("{}{}{}\n", tag, s.prefix, text);
    }
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

std::string format_duration(double seconds) {
  if (seconds < 60) {
    return fmt::format("{:.1f}s", seconds);
  }
  int total = static_cast<int>(seconds + 0.5);
  return fmt::format("{}m{:02}s", total / 60, total % 60);
}

Step::Step(std::string title) : m_title(std::move(title)), m_start(std::chrono::steady_clock::now()) {
  info("‣ {}", m_title);
}

Step::~Step() {
  if (!m_done) {
    write(Level::info, fmt::format("‣ {}: failed after {}", m_title, format_duration(elapsed_seconds())));
  }
}

void Step::finish(std::string_view outcome) {
  m_done = true;
  info("‣ {}: {} in {}", m_title, outcome, format_duration(elapsed_seconds()));
}

double Step::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

}  // namespace binder::common::log
