// status and plan. See status.hpp.
#include "firstboot/app/status.hpp"

#include "common/fs.hpp"
#include "common/log.hpp"
#include "firstboot/app/timeline.hpp"
#include "firstboot/facts.hpp"
#include "firstboot/federation/handover.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/metadata/load.hpp"
#include "firstboot/metadata/validate.hpp"
#include "firstboot/runner.hpp"

namespace binder::firstboot::app {

using nlohmann::json;

namespace {

std::filesystem::path under(const std::filesystem::path& root, std::string_view abs) {
  return root / std::filesystem::path(abs.substr(1));
}

}  // namespace

common::Result<json> collect_status(const std::filesystem::path& root) {
  TRY_ASSIGN(Journal j, Journal::read(under(root, k_journal_path)));
  json out;
  out["status_version"] = k_status_version;
  out["complete"] = std::filesystem::exists(under(root, k_complete_path));
  NodeRole role = NodeRole::server;
  Mode mode = Mode::federation;
  out["member"] = nullptr;
  if (auto text = common::fs::read_file_if_exists(under(root, k_member_json_path)); text && *text) {
    json m = json::parse(**text, nullptr, false);
    if (!m.is_discarded() && m.is_object()) {
      out["member"] = {{"name", m.value("name", "")},
                       {"fqdn", m.value("name", "") + "." + m.value("domain", "")},
                       {"mode", m.value("mode", "")}};
      if (m.contains("node") && m["node"].value("role", "") == "agent") {
        role = NodeRole::agent;
      }
      if (m.value("mode", "") == "standalone")
        mode = Mode::standalone;
    }
  }
  std::vector<std::string> ids = {std::string(k_metadata_step)};
  for (auto& id : firstboot_step_ids(role, mode)) {
    ids.push_back(id);
  }
  json steps = json::array();
  out["current_step"] = nullptr;
  out["last_error"] = nullptr;
  for (const auto& id : ids) {
    auto s = j.last_state(id);
    json e = {{"id", id}, {"state", "pending"}, {"detail", ""}, {"time", ""}};
    if (s) {
      e["state"] = s->event == JournalEvent::begin ? "running" : to_string(s->event);
      e["detail"] = s->detail;
      e["time"] = s->time;
      if (s->event == JournalEvent::begin && out["current_step"].is_null()) {
        out["current_step"] = id;
      }
    }
    steps.push_back(e);
  }
  // The last failure, unless that step succeeded later.
  for (auto it = j.records().rbegin(); it != j.records().rend(); ++it) {
    if (it->event == JournalEvent::failed) {
      auto last = j.last_state(it->step);
      if (last && last->event == JournalEvent::failed) {
        out["last_error"] = {
            {"step", it->step}, {"message", it->detail}, {"hint", it->hint}, {"time", it->time}};
      }
      break;
    }
  }
  out["steps"] = steps;
  out["timeline"] = collect_timeline(j, ids);
  out["summary"] = j.get("export.summary").value_or("");
  out["public_ip"] = j.get("machine.public_ip").value_or("");
  out["journal_recovered"] = j.recovered();
  // binder-firstboot handover: null until it ran; state "handed over" (with its time) or the
  // last state of an unfinished one ("running", "failed").
  out["handover"] = nullptr;
  if (auto h = j.last_state(federation::k_handover_step)) {
    out["handover"] = {{"state", h->event == JournalEvent::done    ? "handed over"
                                 : h->event == JournalEvent::begin ? "running"
                                                                   : to_string(h->event)},
                       {"time", h->time},
                       {"detail", h->detail},
                       {"charts", j.get(federation::k_handover_charts_key).value_or("")}};
  }
  return out;
}

std::string format_status(const json& s) {
  std::string out;
  if (!s["member"].is_null()) {
    out += fmt::format("member: {} ({})\n", s["member"]["fqdn"].get<std::string>(),
                       s["member"]["mode"].get<std::string>());
  }
  if (!s["public_ip"].get<std::string>().empty()) {
    out += fmt::format("public IP: {}\n", s["public_ip"].get<std::string>());
  }
  out += fmt::format("state: {}\n", s["complete"].get<bool>()   ? "complete"
                                    : s["last_error"].is_null() ? "in progress"
                                                                : "failed (will retry)");
  if (!s["current_step"].is_null()) {
    out += fmt::format("current step: {}\n", s["current_step"].get<std::string>());
  }
  if (!s["last_error"].is_null()) {
    out += fmt::format("last error: {}\n", s["last_error"]["message"].get<std::string>());
    if (std::string hint = s["last_error"].value("hint", ""); !hint.empty()) {
      out += fmt::format("what to do: {}\n", hint);
    }
  }
  // Releases (verb_status adds them from the cluster; absent or null before k3s runs).
  if (s.contains("releases") && s["releases"].is_object()) {
    const auto& r = s["releases"];
    if (!r.value("checked", false)) {
      out += fmt::format("releases: not checked ({})\n", r.value("error", ""));
    }
    for (const auto& p : r["problems"]) {
      std::string job = p.value("job", "");
      out += fmt::format("release {}: HelmChart kube-system/{}{}: {}\n", p.value("state", ""),
                         p.value("helmchart", ""), job.empty() ? "" : " (job " + job + ")",
                         p.value("message", ""));
    }
  }
  if (s.contains("handover") && !s["handover"].is_null()) {
    const auto& h = s["handover"];
    std::string state = h["state"].get<std::string>();
    out += state == "handed over"
               ? fmt::format("handover: handed over at {} (HelmCharts {}); central CD owns the releases\n",
                             h["time"].get<std::string>(), h["charts"].get<std::string>())
               : fmt::format("handover: {} since {}{} (rerun `binder-firstboot handover`)\n", state,
                             h["time"].get<std::string>(),
                             state == "failed" ? ": " + h["detail"].get<std::string>() : "");
  }
  out += "steps:\n";
  for (const auto& e : s["steps"]) {
    std::string detail = e["detail"].get<std::string>();
    out += fmt::format("  {:<22} {:<8}{}\n", e["id"].get<std::string>(), e["state"].get<std::string>(),
                       detail.empty() || e["state"] == "failed" ? "" : " (" + detail + ")");
  }
  if (!s["summary"].get<std::string>().empty()) {
    out += "\n" + s["summary"].get<std::string>();
    if (!out.ends_with("\n")) {
      out += "\n";
    }
  }
  return common::log::redact(out);
}

int plan_main(const AgentOptions& o, CommandRunner& runner, bool json_output) {
  auto loaded = load_member(LoadOptions{o.root, o.metadata_file, false}, runner);
  if (!loaded) {
    common::log::error("{}", loaded.error().to_string());
    return common::exit_code_for(loaded.error());
  }
  auto facts = discover_facts(o.root, loaded->member, runner);
  if (!facts) {
    common::log::warn("{}, planning without a public IP", facts.error().to_string());
    facts = MachineFacts{};
  }
  auto journal = Journal::read(under(o.root, k_journal_path));
  if (!journal) {
    common::log::error("{}", journal.error().to_string());
    return common::exit_code_for(journal.error());
  }
  MemoryOutputStore outputs;
  SystemClock clock;
  Env env(o.root, loaded->member, *facts, runner, clock, outputs);
  json steps = json::array();
  for (const auto& s : firstboot_steps(loaded->member, o)) {
    std::string fp = s->fingerprint(env);
    bool done = journal->is_complete(s->id(), fp);
    steps.push_back({{"id", s->id()}, {"action", s->describe(env)}, {"done", done}});
  }
  if (json_output) {
    json doc = {{"member", loaded->member.to_json(Redact::yes)},
                {"sources", loaded->sources},
                {"facts",
                 {{"ram_bytes", facts->ram_bytes},
                  {"cpus", facts->cpus},
                  {"public_ip", facts->public_ip},
                  {"public_ip_source", facts->public_ip_source}}},
                {"steps", steps}};
    fmt::print("{}\n", common::log::redact(doc.dump(2)));
    return 0;
  }
  std::string out = fmt::format(
      "member '{}' ({}), public IP {} (from {}), {:.1f} GiB RAM, {} CPUs\n", loaded->member.fqdn(),
      to_string(loaded->member.mode), facts->public_ip.empty() ? "unknown" : facts->public_ip,
      facts->public_ip_source.empty() ? "-" : facts->public_ip_source, facts->ram_gib(), facts->cpus);
  for (const auto& s : steps) {
    out += fmt::format("  {} {:<22} {}\n", s["done"].get<bool>() ? "done" : "  ->",
                       s["id"].get<std::string>(), s["action"].get<std::string>());
  }
  fmt::print("{}", common::log::redact(out));
  return 0;
}

}  // namespace binder::firstboot::app
