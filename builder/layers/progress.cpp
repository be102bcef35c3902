// See progress.hpp. The live TTY line is drawn by one ticker thread; log lines from elsewhere are
// rare during a step (libguestfs is quiet), and the ticker clears its line before each final print.
#include "layers/progress.hpp"

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/log.hpp"

namespace binder::layers {

namespace log = common::log;

struct Progress::Live {
  std::mutex mutex;
  std::condition_variable cv;
  std::thread thread;
  bool stop = false;
  bool active = false;
  std::string title;
  std::optional<double> eta;
  std::chrono::steady_clock::time_point start;

  void run() {
    std::unique_lock lock(mutex);
    while (!stop) {
      cv.wait_for(lock, std::chrono::milliseconds(500));
      if (stop || !active) {
        continue;
      }
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::string eta_text;
      if (eta && *eta > s) {
        eta_text = fmt::format(", about {} left", log::format_duration(*eta - s));
      }
      std::string line = fmt::format("\r\x1b[K‣ {} ({}{})", title, log::format_duration(s), eta_text);
      std::fwrite(line.data(), 1, line.size(), stderr);
      std::fflush(stderr);
    }
  }
  void clear_line() {
    static const char clear[] = "\r\x1b[K";
    std::fwrite(clear, 1, sizeof clear - 1, stderr);
  }
};

Progress::Progress(Mode mode) : m_mode(mode) {
  if (mode == Mode::human && ::isatty(STDERR_FILENO)) {
    m_live = std::make_unique<Live>();
    m_live->thread = std::thread([live = m_live.get()] { live->run(); });
  }
}

Progress::~Progress() {
  if (m_live) {
    {
      std::lock_guard lock(m_live->mutex);
      m_live->stop = true;
    }
    m_live->cv.notify_all();
    m_live->thread.join();
  }
}

Progress::Step::Step(Progress* owner, std::string id, std::string title)
    : m_owner(owner),
      m_id(std::move(id)),
      m_title(std::move(title)),
      m_start(std::chrono::steady_clock::now()) {}

Progress::Step::Step(Step&& o) noexcept
    : m_owner(o.m_owner),
      m_id(std::move(o.m_id)),
      m_title(std::move(o.m_title)),
      m_start(o.m_start),
      m_done(o.m_done) {
  o.m_done = true;
}

Progress::Step::~Step() {
  if (!m_done) {
    finish("failed");
  }
}

double Progress::Step::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

double Progress::Step::finish(const std::string& outcome, nlohmann::json extra) {
  double s = elapsed();
  if (!m_done) {
    m_done = true;
    m_owner->end(*this, outcome, s, std::move(extra));
  }
  return s;
}

Progress::Step Progress::step(std::string id, std::string title, std::optional<double> eta) {
  if (m_mode == Mode::json) {
    nlohmann::json j{{"event", "step_begin"}, {"step", id}, {"title", title}};
    if (eta) {
      j["eta_seconds"] = *eta;
    }
    fmt::print(stdout, "{}\n", j.dump());
    std::fflush(stdout);
  } else if (m_live && eta) {
    // Live only for steps with an ETA (appliance sessions): they are quiet, so nothing else
    // writes to the terminal while the line is redrawn.
    std::lock_guard lock(m_live->mutex);
    m_live->active = true;
    m_live->title = title;
    m_live->eta = eta;
    m_live->start = std::chrono::steady_clock::now();
    std::string line = fmt::format("‣ {}", title);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  } else {
    log::info("‣ {}{}", title, eta ? fmt::format(" (about {})", log::format_duration(*eta)) : "");
  }
  return Step(this, std::move(id), std::move(title));
}

void Progress::end(const Step& s, const std::string& outcome, double seconds, nlohmann::json extra) {
  if (m_mode == Mode::json) {
    nlohmann::json j{{"event", "step_end"}, {"step", s.m_id}, {"outcome", outcome}, {"seconds", seconds}};
    if (extra.is_object()) {
      j.update(extra);
    }
    fmt::print(stdout, "{}\n", j.dump());
    std::fflush(stdout);
    return;
  }
  if (m_live) {
    std::lock_guard lock(m_live->mutex);
    if (m_live->active && m_live->title == s.m_title) {
      m_live->active = false;
      m_live->clear_line();
    }
  }
  log::info("‣ {}: {} in {}", s.m_title, outcome, log::format_duration(seconds));
}

void Progress::event(const std::string& type, nlohmann::json fields, const std::string& text) {
  if (m_mode == Mode::json) {
    nlohmann::json j{{"event", type}};
    if (fields.is_object()) {
      j.update(fields);
    }
    fmt::print(stdout, "{}\n", j.dump());
    std::fflush(stdout);
  } else if (!text.empty()) {
    if (m_live) {
      std::lock_guard lock(m_live->mutex);
      m_live->clear_line();
    }
    log::info("{}", text);
  }
}

}  // namespace binder::layers
