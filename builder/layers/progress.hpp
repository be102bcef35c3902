// Build progress: one "‣ title" line per step with its outcome and elapsed time. On a TTY the
// running step's line is redrawn live (elapsed, ETA when known); otherwise plain lines on stderr.
// In JSON mode every event is one JSON object per line on stdout ({"event":"step_begin",...},
// "step_end", "info", "done", "error"), and nothing decorative is printed. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace binder::layers {

class Progress {
 public:
  enum class Mode { human, json };
  explicit Progress(Mode mode);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  class Step {
   public:
    Step(Step&&) noexcept;
    Step& operator=(Step&&) = delete;
    ~Step();  // without finish(): reported as "failed"
    // Ends the step: "built", "cached", "done"... Returns the elapsed seconds.
    double finish(const std::string& outcome, nlohmann::json extra = {});
    double elapsed() const;

   private:
    friend class Progress;
    Step(Progress* owner, std::string id, std::string title);
    Progress* m_owner;
    std::string m_id;
    std::string m_title;
    std::chrono::steady_clock::time_point m_start;
    bool m_done = false;
  };

  // Starts a step. `eta_seconds`: expected duration if known (shown live on a TTY).
  Step step(std::string id, std::string title, std::optional<double> eta_seconds = std::nullopt);
  // A JSON event (JSON mode) or a plain info line (human mode, `text`).
  void event(const std::string& type, nlohmann::json fields, const std::string& text = "");
  bool json() const { return m_mode == Mode::json; }

 private:
  struct Live;
  void end(const Step& s, const std::string& outcome, double seconds, nlohmann::json extra);
  Mode m_mode;
  std::unique_ptr<Live> m_live;
};

}  // namespace binder::layers
