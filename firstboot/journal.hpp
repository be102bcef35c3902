// The firstboot journal: which steps are done, and the durable outputs of steps (generated
// secrets, IDs). Append-only, one JSON record per line, each append fsync'd (ninja's .ninja_log,
// LevelDB's log). The file holds secrets in outputs, so it is 0600.
//
// Format v2 (/var/lib/binder-firstboot/journal):
//   line 1:   # binder-firstboot journal v2
//   then:     {"seq":N,"step":"host:hostname","fingerprint":"<hex>","event":E,
//              "time":"<UTC ISO, milliseconds>","boot_ms":M,"detail":"...","hint":"...",
//              "outputs":{"key":"value",...}}
//   E is begin | done | adopted | failed | output. "done" detail is "changed" or "unchanged";
//   "failed" detail is the error message and hint (optional) what to do about it (Error::hint);
//   "output" records carry outputs (written before use).
//   time is wall-clock ("2026-11-21T01:02:03.456Z"); boot_ms (optional) is the time since the
//   machine powered on (Clock::since_boot) when the record was written: with it the timeline
//   (app/timeline.hpp) finds power-on and measures durations even when the wall clock steps at
//   NTP sync; it restarts at each boot.
// v1 (before the timeline): the same records with times to the second, no boot_ms, no hint. A v1
// journal is read as is and its header upgraded to v2 (atomically) when the agent opens it.
// A record counts only when its line is complete (ends in '\n' and parses). A torn last line is
// dropped on load and the file truncated back to the last good record, with a warning ending
// in ", recovering". A header with a newer version is refused (Errc::corrupt_state), never
// overwritten. A damaged line that is not the last one is also corrupt_state.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "firstboot/env.hpp"

namespace binder::firstboot {

inline constexpr int k_journal_version = 2;

enum class JournalEvent { begin, done, adopted, failed, output };
const char* to_string(JournalEvent e);

struct JournalRecord {
  std::int64_t seq = 0;
  std::string step;
  std::string fingerprint;
  JournalEvent event = JournalEvent::begin;
  std::string time;                     // "2026-11-21T01:02:03.456Z" (v1: "2026-11-21T01:02:03Z")
  std::optional<std::int64_t> boot_ms;  // milliseconds since power-on, when known
  std::string hint;                     // failed: what to do about it (may be empty)
  std::string detail;
  std::map<std::string, std::string> outputs;
};

class Journal : public OutputStore {
 public:
  // Loads (creating with the header if missing, parent dirs too). Recovers a torn tail.
  static Result<Journal> open(const std::filesystem::path& path, Clock& clock);
  // Read-only load for `status` (no creation, no truncation): a missing file is an empty journal.
  static Result<Journal> read(const std::filesystem::path& path);

  const std::vector<JournalRecord>& records() const { return m_records; }
  // Appends (fsync) and remembers the record; assigns seq and time.
  Result<void> append(std::string_view step, std::string_view fingerprint, JournalEvent event,
                      std::string_view detail = {}, std::map<std::string, std::string> outputs = {});

  // A `failed` record: the error's message (Error::to_string) and hint.
  Result<void> append_failure(std::string_view step, std::string_view fingerprint, const Error& error);

  // The last record of `step` other than `output`, if any.
  std::optional<JournalRecord> last_state(std::string_view step) const;
  // True when the last state of `step` is done/adopted with this fingerprint.
  bool is_complete(std::string_view step, std::string_view fingerprint) const;

  // OutputStore: latest value recorded for key.
  std::optional<std::string> get(std::string_view key) const override;
  Result<void> put(std::string_view step, std::string_view key, std::string_view value) override;

  const std::filesystem::path& path() const { return m_path; }
  // Whether load dropped a torn tail.
  bool recovered() const { return m_recovered; }
  // The header's version (k_journal_version for a new or opened journal; 1 for a v1 file read).
  int version() const { return m_version; }

 private:
  // Assigns seq, time and boot_ms; appends (fsync) and remembers.
  Result<void> write(JournalRecord r);
  std::filesystem::path m_path;
  Clock* m_clock = nullptr;
  std::vector<JournalRecord> m_records;
  std::int64_t m_next_seq = 1;
  bool m_recovered = false;
  int m_version = k_journal_version;
};

// Parses journal text; `good_bytes` receives the length of the valid prefix. Pure (tests).
Result<std::vector<JournalRecord>> parse_journal(std::string_view text, std::size_t& good_bytes, bool& torn);
// The header's version; 0 when the text has no complete header.
int journal_version(std::string_view text);
// "2026-11-21T01:02:03.456Z" (milliseconds) for a point in time; parse_utc reads it back, and
// the v1 form without milliseconds. nullopt for anything else.
std::string format_utc(std::chrono::system_clock::time_point t);
std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view s);
std::string format_record(const JournalRecord& r);

}  // namespace binder::firstboot
