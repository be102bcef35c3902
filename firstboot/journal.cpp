// Journal load/recovery/append. See journal.hpp for the format.
#include "firstboot/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/log.hpp"

namespace binder::firstboot {
namespace {

using nlohmann::json;
namespace fs = common::fs;

constexpr std::string_view k_header_prefix = "# binder-firstboot journal v";

std::string header_line() { return fmt::format("{}{}\n", k_header_prefix, k_journal_version); }

std::optional<JournalEvent> event_from(std::string_view s) {
  for (auto e : {JournalEvent::begin, JournalEvent::done, JournalEvent::adopted, JournalEvent::failed,
                 JournalEvent::output}) {
    if (s == to_string(e)) {
      return e;
    }
  }
  return std::nullopt;
}

std::optional<JournalRecord> parse_record(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("seq") || !j["seq"].is_number_integer() ||
      !j.contains("step") || !j["step"].is_string() || !j.contains("event") || !j["event"].is_string()) {
    return std::nullopt;
  }
  auto ev = event_from(j["event"].get<std::string>());
  if (!ev) {
    return std::nullopt;
  }
  // Optional fields of another type make a damaged record (json::value() would throw).
  for (const char* k : {"fingerprint", "time", "detail", "hint"}) {
    if (j.contains(k) && !j[k].is_string()) {
      return std::nullopt;
    }
  }
  if (j.contains("boot_ms") && !j["boot_ms"].is_number_integer()) {
    return std::nullopt;
  }
  JournalRecord r;
  r.seq = j["seq"].get<std::int64_t>();
  r.step = j["step"].get<std::string>();
  r.event = *ev;
  r.fingerprint = j.value("fingerprint", "");
  r.time = j.value("time", "");
  r.detail = j.value("detail", "");
  r.hint = j.value("hint", "");
  if (j.contains("boot_ms")) {
    r.boot_ms = j["boot_ms"].get<std::int64_t>();
  }
  if (j.contains("outputs") && j["outputs"].is_object()) {
    for (auto& [k, v] : j["outputs"].items()) {
      if (v.is_string()) {
        r.outputs[k] = v.get<std::string>();
      }
    }
  }
  return r;
}

std::string utc_now(Clock* clock) {
  return format_utc(clock ? clock->now() : std::chrono::system_clock::now());
}

}  // namespace

const char* to_string(JournalEvent e) {
  switch (e) {
    case JournalEvent::begin:
      return "begin";
    case JournalEvent::done:
      return "done";
    case JournalEvent::adopted:
      return "adopted";
    case JournalEvent::failed:
      return "failed";
    case JournalEvent::output:
      return "output";
  }
  return "?";
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms - static_cast<long long>(secs) * 1000);
}

std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.mmm]Z
  auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    if (pos + n > s.size())
      return std::nullopt;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9')
        return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
       sec = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !sec || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 ||
      *mi > 59 || *sec > 60) {
    return std::nullopt;
  }
  int ms = 0;
  if (s.size() == 24 && s[19] == '.' && s[23] == 'Z') {
    auto m = digits(20, 3);
    if (!m)
      return std::nullopt;
    ms = *m;
  } else if (s.size() != 20 || s[19] != 'Z') {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = *y - 1900;
  tm.tm_mon = *mo - 1;
  tm.tm_mday = *d;
  tm.tm_hour = *h;
  tm.tm_min = *mi;
  tm.tm_sec = *sec;
  std::time_t t = timegm(&tm);
  return std::chrono::system_clock::from_time_t(t) + std::chrono::milliseconds(ms);
}

int journal_version(std::string_view text) {
  std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos || !text.starts_with(k_header_prefix)) {
    return 0;
  }
  return std::atoi(std::string(text.substr(k_header_prefix.size(), nl - k_header_prefix.size())).c_str());
}

std::string format_record(const JournalRecord& r) {
  json j = {
      {"seq", r.seq},   {"step", r.step},    {"fingerprint", r.fingerprint}, {"event", to_string(r.event)},
      {"time", r.time}, {"detail", r.detail}};
  if (r.boot_ms) {
    j["boot_ms"] = *r.boot_ms;
  }
  if (!r.hint.empty()) {
    j["hint"] = r.hint;
  }
  if (!r.outputs.empty()) {
    j["outputs"] = r.outputs;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<std::vector<JournalRecord>> parse_journal(std::string_view text, std::size_t& good_bytes, bool& torn) {
  std::vector<JournalRecord> out;
  good_bytes = 0;
  torn = false;
  if (text.empty()) {
    return out;
  }
  std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos) {
    // Not even a complete header: a torn creation.
    torn = true;
    return out;
  }
  std::string_view header = text.substr(0, nl);
  if (!header.starts_with(k_header_prefix)) {
    return common::fail(Errc::corrupt_state, "not a binder-firstboot journal (header '{}')", header);
  }
  int version = std::atoi(std::string(header.substr(k_header_prefix.size())).c_str());
  if (version > k_journal_version) {
    return common::fail(Errc::corrupt_state,
                        "journal version {} is newer than this agent understands ({}), refusing", version,
                        k_journal_version);
  }
  std::size_t pos = nl + 1;
  good_bytes = pos;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
    auto rec = end == std::string_view::npos ? std::nullopt : parse_record(line);
    if (!rec) {
      bool last = end == std::string_view::npos || end + 1 == text.size();
      if (!last) {
        return common::fail(Errc::corrupt_state, "journal record at byte {} is damaged", pos);
      }
      torn = true;
      return out;
    }
    out.push_back(std::move(*rec));
    pos = end + 1;
    good_bytes = pos;
  }
  return out;
}

Result<Journal> Journal::read(const std::filesystem::path& path) {
  Journal j;
  j.m_path = path;
  TRY_ASSIGN(auto text, fs::read_file_if_exists(path));
  if (!text) {
    return j;
  }
  std::size_t good = 0;
  bool torn = false;
  TRY_ASSIGN(j.m_records, parse_journal(*text, good, torn));
  j.m_recovered = torn;
  j.m_version = std::max(1, journal_version(*text));
  if (!j.m_records.empty()) {
    j.m_next_seq = j.m_records.back().seq + 1;
  }
  return j;
}

Result<Journal> Journal::open(const std::filesystem::path& path, Clock& clock) {
  TRY_ASSIGN(Journal j, read(path));
  j.m_clock = &clock;
  TRY_ASSIGN(auto text, fs::read_file_if_exists(path));
  if (!text || text->empty() || text->find('\n') == std::string::npos) {
    // New (or torn before the header was complete): start with the header.
    TRY(fs::write_file_atomic(path, header_line(), 0600));
    j.m_version = k_journal_version;
    return j;
  }
  std::size_t good = text->size();
  if (j.m_recovered) {
    bool torn = false;
    TRY(parse_journal(*text, good, torn));
    common::log::warn("journal '{}': dropping a torn last record ({} bytes), recovering", path.string(),
                      text->size() - good);
    if (::truncate(path.c_str(), static_cast<off_t>(good)) != 0) {
      return common::fail(Errc::io, "truncating '{}': {}", path.string(), std::strerror(errno));
    }
  }
  if (j.m_version < k_journal_version) {
    // Its records are valid records of this version: only the header changes (atomically).
    std::string upgraded = header_line() + text->substr(text->find('\n') + 1, good - text->find('\n') - 1);
    TRY_CTX(fs::write_file_atomic(path, upgraded, 0600), "upgrading the journal to v{}", k_journal_version);
    j.m_version = k_journal_version;
  }
  return j;
}

Result<void> Journal::append(std::string_view step, std::string_view fingerprint, JournalEvent event,
                             std::string_view detail, std::map<std::string, std::string> outputs) {
  JournalRecord r;
  r.step = step;
  r.fingerprint = fingerprint;
  r.event = event;
  r.detail = detail;
  r.outputs = std::move(outputs);
  return write(std::move(r));
}

Result<void> Journal::append_failure(std::string_view step, std::string_view fingerprint,
                                     const Error& error) {
  JournalRecord r;
  r.step = step;
  r.fingerprint = fingerprint;
  r.event = JournalEvent::failed;
  r.detail = error.to_string();
  r.hint = error.hint;
  return write(std::move(r));
}

Result<void> Journal::write(JournalRecord r) {
  r.seq = m_next_seq;
  r.time = utc_now(m_clock);
  if (m_clock) {
    if (auto b = m_clock->since_boot()) {
      r.boot_ms = b->count();
    }
  }
  TRY_CTX(fs::append_file_synced(m_path, format_record(r), 0600), "appending to the journal");
  ++m_next_seq;
  m_records.push_back(std::move(r));
  return {};
}

std::optional<JournalRecord> Journal::last_state(std::string_view step) const {
  for (auto it = m_records.rbegin(); it != m_records.rend(); ++it) {
    if (it->step == step && it->event != JournalEvent::output) {
      return *it;
    }
  }
  return std::nullopt;
}

bool Journal::is_complete(std::string_view step, std::string_view fingerprint) const {
  auto s = last_state(step);
  return s && (s->event == JournalEvent::done || s->event == JournalEvent::adopted) &&
         s->fingerprint == fingerprint;
}

std::optional<std::string> Journal::get(std::string_view key) const {
  for (auto it = m_records.rbegin(); it != m_records.rend(); ++it) {
    auto f = it->outputs.find(std::string(key));
    if (f != it->outputs.end()) {
      return f->second;
    }
  }
  return std::nullopt;
}

Result<void> Journal::put(std::string_view step, std::string_view key, std::string_view value) {
  return append(step, "", JournalEvent::output, {}, {{std::string(key), std::string(value)}});
}

}  // namespace binder::firstboot
