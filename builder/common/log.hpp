// Logging: one fmt-style API, stderr only (stdout belongs to a verb's output). Three sinks: a TTY
// (colour, live step line), plain lines (not a TTY), and journald (syslog "<N>" prefixes, for
// binder-firstboot). Secrets registered with add_secret() are replaced by "<redacted>" at the sink,
// whatever the caller formats. Thread-safe: one mutex around the sink.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace binder::common::log {

enum class Level { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };
enum class Sink { automatic, tty, plain, journald };

// Configure once at start-up (not thread-safe against concurrent logging).
void configure(Level max_level, Sink sink = Sink::automatic);
Level max_level();
bool is_tty();

// Every occurrence of `secret` (if at least 4 chars) is redacted in all later log lines.
void add_secret(std::string secret);
// Redacts registered secrets in `text` (also used by verbs that print to stdout).
std::string redact(std::string_view text);

// A prefix printed after the level on every line (firstboot: "step 'dns': ").
void set_prefix(std::string prefix);

void write(Level level, std::string_view message);

template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::warning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void notice(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::notice, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}

// Scoped step: prints "‣ <title>" when created and "‣ <title>: <outcome> in 4.1s" when done.
// Call finish("cached") or finish("built"); destruction without finish() reports "failed".
class Step {
 public:
  explicit Step(std::string title);
  ~Step();
  Step(const Step&) = delete;
  Step& operator=(const Step&) = delete;
  void finish(std::string_view outcome);
  double elapsed_seconds() const;

 private:
  std::string m_title;
  std::chrono::steady_clock::time_point m_start;
  bool m_done = false;
};

// "41.2s", "3m05s"
std::string format_duration(double seconds);

}  // namespace binder::common::log
