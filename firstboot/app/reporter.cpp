// The agent's reporter. See reporter.hpp.
#include "firstboot/app/reporter.hpp"

#include <condition_variable>

#include "common/log.hpp"
#include "firstboot/app/status.hpp"
#include "firstboot/runner.hpp"

namespace binder::firstboot::app {

namespace log = common::log;
using nlohmann::json;

Reporter::Reporter(std::filesystem::path root, ReporterOptions options, Clock& clock)
    : m_root(std::move(root)), m_options(std::move(options)), m_clock(clock) {
  if (m_options.console && m_options.refresh.count() > 0) {
    m_ticker = std::jthread([this](std::stop_token stop) { tick(stop); });
  }
}

Reporter::~Reporter() {
  m_ticker.request_stop();
  if (m_ticker.joinable())
    m_ticker.join();
}

void Reporter::set_member(const Member& member) {
  std::lock_guard lock(m_mutex);
  m_member = member;
  if (!member.status_url.empty() && !m_phone_home) {
    m_phone_home = std::make_unique<PhoneHome>(member.status_url, m_options.phone_home_http);
  }
}

std::vector<std::string> Reporter::secrets() const {
  const Member* member = m_member ? &*m_member : nullptr;
  auto journal = Journal::read(m_root / std::string(k_journal_path).substr(1));
  if (!journal) {
    std::vector<std::string> out;
    if (member != nullptr) {
      for (const auto& [k, v] : member->secrets())
        out.push_back(v);
    }
    return out;
  }
  return known_secrets(member, *journal);
}

void Reporter::write_console(const json& status, bool quiet) {
  if (!m_options.console)
    return;
  auto lines =
      render_console_block(console_view(status, m_member ? &*m_member : nullptr, secrets(), m_clock.now()));
  m_last = lines;
  if (auto r = write_console_block(lines, *m_options.console); !r && !m_warned && !quiet) {
    m_warned = true;  // once: a missing tty stays missing
    log::warn("writing the console status block: {}, ignoring", r.error().to_string());
  }
}

void Reporter::step_changed() {
  if (!m_options.console && !m_phone_home)
    return;  // nothing to tell
  auto status = collect_status(m_root);
  if (!status) {
    log::warn("reading the status for the console: {}, ignoring", status.error().to_string());
    return;
  }
  std::lock_guard lock(m_mutex);
  write_console(*status, false);
  if (m_phone_home) {
    m_phone_home->post(scrub_document(*status, secrets()));
  }
}

void Reporter::finish() {
  step_changed();
  std::lock_guard lock(m_mutex);
  if (m_phone_home && !m_phone_home->flush(m_options.flush_timeout)) {
    log::warn("phone home: the last status was not delivered within {} s, ignoring",
              m_options.flush_timeout.count() / 1000);
  }
}

std::vector<std::string> Reporter::last_block() const {
  std::lock_guard lock(m_mutex);
  return m_last;
}

void Reporter::tick(std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any cv;
  for (;;) {
    {
      std::unique_lock lock(m);
      if (cv.wait_for(lock, stop, m_options.refresh, [] { return false; }))
        return;
      if (stop.stop_requested())
        return;
    }
    // Only the elapsed time of a running step changes between step changes. A failure's text
    // is left to step_changed(): scrubbing it uses the log's redactor, which is not thread-safe.
    auto status = collect_status(m_root);
    if (!status || !(*status)["last_error"].is_null() || (*status)["current_step"].is_null())
      continue;
    std::lock_guard lock(m_mutex);
    write_console(*status, true);
  }
}

}  // namespace binder::firstboot::app
