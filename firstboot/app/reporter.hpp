// What the agent tells the world while it runs: at every step change the console status block
// (console.hpp) and the phone-home post (phone_home.hpp), both from the status document
// (status.hpp, read back from the journal on disk, so they show exactly what `status` shows);
// while a step runs, the console block again every `refresh` (its elapsed time). Nothing here
// fails the boot: errors are logged once as warnings and otherwise ignored.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/http.hpp"
#include "firstboot/app/console.hpp"
#include "firstboot/app/phone_home.hpp"
#include "firstboot/env.hpp"
#include "firstboot/runner.hpp"

namespace binder::firstboot::app {

struct ReporterOptions {
  std::optional<ConsoleTargets> console;  // nullopt: no console block (tests, --root runs)
  std::chrono::milliseconds refresh{std::chrono::seconds(30)};  // 0: only at step changes
  common::http::Options phone_home_http = default_phone_home_http();
  std::chrono::milliseconds flush_timeout{std::chrono::seconds(30)};  // at the end of the run
};

class Reporter : public StepObserver {
 public:
  Reporter(std::filesystem::path root, ReporterOptions options, Clock& clock);
  ~Reporter() override;
  // Once the metadata is loaded: URLs for the block, secrets to keep out, phone home when the
  // member has a status_url.
  void set_member(const Member& member);
  // Refreshes the console block and posts the status.
  void step_changed() override;
  // The final report: refresh, then wait for phone home (options.flush_timeout).
  void finish();

  // The last block written (tests).
  std::vector<std::string> last_block() const;
  const PhoneHome* phone_home() const { return m_phone_home.get(); }

 private:
  // Under m_mutex. quiet: no log line (the ticker thread).
  void write_console(const nlohmann::json& status, bool quiet);
  std::vector<std::string> secrets() const;
  void tick(std::stop_token stop);

  std::filesystem::path m_root;
  ReporterOptions m_options;
  Clock& m_clock;
  std::optional<Member> m_member;
  std::unique_ptr<PhoneHome> m_phone_home;
  mutable std::mutex m_mutex;  // the console targets and m_last
  std::vector<std::string> m_last;
  bool m_warned = false;
  std::jthread m_ticker;
};

}  // namespace binder::firstboot::app
