// The boot timeline. See timeline.hpp.
#include "firstboot/app/timeline.hpp"

#include <algorithm>
#include <cmath>

#include "common/fs.hpp"
#include "common/log.hpp"

namespace binder::firstboot::app {

using nlohmann::json;
using TimePoint = std::chrono::system_clock::time_point;

namespace {

constexpr std::string_view k_boot_id_key = "boot.id";
constexpr std::string_view k_network_key = "boot.network_online_ms";

// Milestones: reached when every listed step present in the timeline is complete, at the
// latest end among them.
struct Milestone {
  std::string_view name;
  std::vector<std::string_view> steps;
};
const std::vector<Milestone>& milestones() {
  static const std::vector<Milestone> k = {
      {"k3s ready", {"k3s:ready"}},
      {"charts ready",
       {"ingress:cert-manager", "ingress:traefik", "mybinder:chart", "harbor:chart", "binderhub:chart"}},
      {"HTTPS healthy", {"readiness"}},
      {"in rotation", {"in-rotation"}},
  };
  return k;
}

// Where a record sits in time: its wall clock, and its time since power-on in which boot.
struct Point {
  std::optional<TimePoint> wall;
  std::optional<std::int64_t> boot_ms;
  int boot = -1;  // index of the boot (0 = the first one with boot_ms); -1 unknown
};

class Clocks {
 public:
  explicit Clocks(const Journal& j) {
    int boot = -1;
    std::optional<std::int64_t> prev;
    for (const auto& r : j.records()) {
      Point p{parse_utc(r.time), r.boot_ms, -1};
      if (r.boot_ms) {
        if (boot < 0 || (prev && *r.boot_ms < *prev))
          ++boot;  // boot_ms restarts at each boot
        prev = r.boot_ms;
        p.boot = boot;
        if (!m_power_on && p.wall) {
          m_power_on = *p.wall - std::chrono::milliseconds(*r.boot_ms);
        }
      }
      m_points.push_back(p);
    }
  }
  const Point& at(std::size_t i) const { return m_points[i]; }
  std::optional<TimePoint> power_on() const { return m_power_on; }
  // Seconds from power-on of the first boot.
  std::optional<double> offset(const Point& p) const {
    if (p.boot == 0 && p.boot_ms)
      return static_cast<double>(*p.boot_ms) / 1000.0;
    if (p.wall && m_power_on)
      return seconds(*p.wall - *m_power_on);
    return std::nullopt;
  }
  static std::optional<double> between(const Point& a, const Point& b) {
    if (a.boot >= 0 && a.boot == b.boot && a.boot_ms && b.boot_ms) {
      return static_cast<double>(*b.boot_ms - *a.boot_ms) / 1000.0;
    }
    if (a.wall && b.wall)
      return seconds(*b.wall - *a.wall);
    return std::nullopt;
  }

 private:
  static double seconds(std::chrono::system_clock::duration d) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) / 1000.0;
  }
  std::vector<Point> m_points;
  std::optional<TimePoint> m_power_on;
};

json or_null(const std::optional<double>& v) {
  return v ? json(std::round(*v * 1000.0) / 1000.0) : json(nullptr);
}

json step_entry(const Journal& j, const Clocks& clocks, const std::string& id) {
  const auto& recs = j.records();
  json e = {{"name", id},     {"kind", "step"},  {"state", "pending"},   {"start", nullptr},
            {"end", nullptr}, {"at_s", nullptr}, {"duration_s", nullptr}};
  std::optional<std::size_t> last;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    if (recs[i].step == id && recs[i].event != JournalEvent::output)
      last = i;
  }
  if (!last)
    return e;
  const JournalRecord& r = recs[*last];
  e["at_s"] = or_null(clocks.offset(clocks.at(*last)));
  if (r.event == JournalEvent::begin) {  // running (or interrupted: resumed by the next run)
    e["state"] = "running";
    e["start"] = r.time;
    return e;
  }
  e["state"] = r.event == JournalEvent::failed ? "failed" : to_string(r.event);
  e["end"] = r.time;
  // The begin this record closes (none for a failure journaled without one, e.g. facts).
  for (std::size_t i = *last; i-- > 0;) {
    if (recs[i].step != id || recs[i].event == JournalEvent::output)
      continue;
    if (recs[i].event == JournalEvent::begin) {
      e["start"] = recs[i].time;
      e["duration_s"] = or_null(Clocks::between(clocks.at(i), clocks.at(*last)));
    }
    break;
  }
  return e;
}

}  // namespace

json collect_timeline(const Journal& j, const std::vector<std::string>& step_ids) {
  Clocks clocks(j);
  json entries = json::array();
  if (auto p = clocks.power_on()) {
    entries.push_back({{"name", "power-on"},
                       {"kind", "event"},
                       {"state", "done"},
                       {"start", nullptr},
                       {"end", format_utc(*p)},
                       {"at_s", 0.0},
                       {"duration_s", nullptr}});
  }
  // Network online: the first boot's, as the agent recorded it.
  for (std::size_t i = 0; i < j.records().size(); ++i) {
    const auto& r = j.records()[i];
    auto f = r.outputs.find(std::string(k_network_key));
    if (f == r.outputs.end())
      continue;
    std::int64_t ms = std::strtoll(f->second.c_str(), nullptr, 10);
    Point p = clocks.at(i);
    if (p.wall && p.boot_ms) {
      p.wall = *p.wall - std::chrono::milliseconds(*p.boot_ms - ms);
      p.boot_ms = ms;
    } else {
      p = Point{};
    }
    entries.push_back({{"name", "network online"},
                       {"kind", "event"},
                       {"state", "done"},
                       {"start", nullptr},
                       {"end", p.wall ? json(format_utc(*p.wall)) : json(nullptr)},
                       {"at_s", or_null(clocks.offset(p))},
                       {"duration_s", nullptr}});
    break;
  }
  // The listed steps, then any other step the journal holds, in order of appearance.
  std::vector<std::string> ids = step_ids;
  for (const auto& r : j.records()) {
    if (r.event != JournalEvent::output && std::find(ids.begin(), ids.end(), r.step) == ids.end()) {
      ids.push_back(r.step);
    }
  }
  for (const auto& id : ids) {
    entries.push_back(step_entry(j, clocks, id));
  }
  // Milestones after the last of their steps.
  for (const auto& m : milestones()) {
    std::optional<std::size_t> pos;
    bool reached = true;
    std::optional<double> at;
    std::string end;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      if (e["kind"] != "step" ||
          std::find(m.steps.begin(), m.steps.end(), e["name"].get<std::string>()) == m.steps.end()) {
        continue;
      }
      pos = i;
      bool complete = e["state"] == "done" || e["state"] == "adopted";
      reached = reached && complete;
      if (complete && !e["at_s"].is_null() && (!at || e["at_s"].get<double>() > *at)) {
        at = e["at_s"].get<double>();
        end = e["end"].get<std::string>();
      }
    }
    if (!pos)
      continue;
    json ms = {{"name", m.name},
               {"kind", "milestone"},
               {"state", reached ? "done" : "pending"},
               {"start", nullptr},
               {"end", reached && !end.empty() ? json(end) : json(nullptr)},
               {"at_s", reached ? or_null(at) : json(nullptr)},
               {"duration_s", nullptr}};
    entries.insert(entries.begin() + static_cast<std::ptrdiff_t>(*pos + 1), ms);
  }
  json out;
  out["power_on"] = clocks.power_on() ? json(format_utc(*clocks.power_on())) : json(nullptr);
  out["entries"] = entries;
  return out;
}

std::string format_seconds(double s) {
  bool neg = s < 0;
  double a = std::fabs(s);
  std::string out;
  if (a < 60) {
    out = fmt::format("{:.1f}s", a);
  } else if (a < 3600) {
    auto m = static_cast<long long>(a / 60);
    out = fmt::format("{}m{:04.1f}s", m, a - static_cast<double>(m) * 60);
  } else {
    auto total = static_cast<long long>(a);
    out = fmt::format("{}h{:02}m{:02}s", total / 3600, (total % 3600) / 60, total % 60);
  }
  return neg ? "-" + out : out;
}

std::string format_timeline(const json& t) {
  std::string out = t["power_on"].is_null() ? std::string("power-on: unknown (journal without boot times)\n")
                                            : fmt::format("power-on: {}\n", t["power_on"].get<std::string>());
  out += fmt::format("  {:>10}  {:<24} {:>9}  {}\n", "at", "stage", "took", "state");
  for (const auto& e : t["entries"]) {
    std::string at = e["at_s"].is_null() ? "-" : "+" + format_seconds(e["at_s"].get<double>());
    std::string took = e["duration_s"].is_null() ? "" : format_seconds(e["duration_s"].get<double>());
    std::string name = e["name"].get<std::string>();
    if (e["kind"] == "milestone")
      name = "== " + name;
    std::string state = e["kind"] == "step" || e["state"] != "done" ? e["state"].get<std::string>() : "";
    out += fmt::format("  {:>10}  {:<24} {:>9}  {}", at, name, took, state);
    while (out.ends_with(' '))
      out.pop_back();
    out += "\n";
  }
  return out;
}

BootInfo read_boot_info(CommandRunner& runner) {
  BootInfo b;
  if (auto id = common::fs::read_file("/proc/sys/kernel/random/boot_id")) {
    b.id = *id;
    while (!b.id.empty() && (b.id.back() == '\n' || b.id.back() == ' '))
      b.id.pop_back();
  }
  auto r = runner.run(
      {"systemctl", "show", "--property=ActiveEnterTimestampMonotonic", "--value", "network-online.target"});
  if (r && r->exit_code == 0) {
    long long us = std::strtoll(r->out.c_str(), nullptr, 10);
    if (us > 0)
      b.network_online_ms = us / 1000;
  }
  return b;
}

Result<void> record_boot(Journal& journal, const BootInfo& boot) {
  if (boot.id.empty() || journal.get(k_boot_id_key) == boot.id) {
    return {};
  }
  std::map<std::string, std::string> outputs = {{std::string(k_boot_id_key), boot.id}};
  if (boot.network_online_ms) {
    outputs[std::string(k_network_key)] = std::to_string(*boot.network_online_ms);
  }
  return journal.append("boot", "", JournalEvent::output, {}, std::move(outputs));
}

}  // namespace binder::firstboot::app
