// Verb table and option parsing for binder-firstboot. All logic lives in agent/status/render.
#include "firstboot/app/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>

#include "common/log.hpp"
#include "firstboot/app/agent.hpp"
#include "firstboot/app/handover_verb.hpp"
#include "firstboot/app/release_health.hpp"
#include "firstboot/app/status.hpp"
#include "firstboot/app/timeline.hpp"
#include "firstboot/render/render_cli.hpp"

namespace binder::firstboot {
namespace {

namespace log = common::log;

constexpr std::string_view k_usage =
    "usage: binder-firstboot VERB [options]\n\n"
    "Provisions a booted binder-image VM into a BinderHub member (runs once, from\n"
    "binder-firstboot.service; resumable: every step is journaled).\n\n"
    "verbs:\n"
    "  run     [--root DIR] [--metadata FILE]   provision (the service's ExecStart)\n"
    "  status  [--root DIR] [--timeline] [--json]  steps done, current step, last error\n"
    "  plan    [--root DIR] [--metadata FILE] [--json]  what run would do; changes nothing\n"
    "  render  ARTIFACT --metadata FILE [...]   print a generated artifact (render --help)\n"
    "  handover [--root DIR] [--json]           hand the member over to mybinder.org central CD\n\n"
    "options:\n"
    "  --root DIR       act on DIR as if it were / (tests, inspection)\n"
    "  --metadata FILE  use FILE as the only member metadata source (testing)\n"
    "  -v, --verbose    debug logging\n"
    "  -h, --help       this help\n\n"
    "exit status: 0 done, 1 a step failed (a later run resumes), 2 usage or invalid metadata,\n"
    "75 temporary failure (systemd retries), 70 internal error.\n";

struct Options {
  std::filesystem::path root = "/";
  std::optional<std::filesystem::path> metadata;
  bool json = false;
  bool timeline = false;
  bool verbose = false;
};

// Parses common options; nullopt after printing a usage error.
std::optional<Options> parse(const std::vector<std::string>& args, std::string_view verb, bool allow_metadata,
                             bool allow_json) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string_view name) -> std::optional<std::string> {
      if (a.starts_with(std::string(name) + "=")) {
        return a.substr(name.size() + 1);
      }
      if (a == name && i + 1 < args.size()) {
        return args[++i];
      }
      return std::nullopt;
    };
    if (auto v = value("--root")) {
      o.root = *v;
    } else if (allow_metadata && (a.starts_with("--metadata"))) {
      auto m = value("--metadata");
      if (!m) {
        fmt::print(stderr, "binder-firstboot {}: --metadata needs a file\n", verb);
        return std::nullopt;
      }
      o.metadata = *m;
    } else if (allow_json && a == "--json") {
      o.json = true;
    } else if (verb == "status" && a == "--timeline") {
      o.timeline = true;
    } else if (a == "-v" || a == "--verbose") {
      o.verbose = true;
    } else {
      fmt::print(stderr, "binder-firstboot {}: unknown option '{}' (see --help)\n", verb, a);
      return std::nullopt;
    }
  }
  if (o.root.empty()) {
    o.root = "/";
  }
  return o;
}

bool wants_help(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const auto& a) { return a == "-h" || a == "--help"; });
}

void configure_logs(bool verbose) {
  // journald keeps levels from "<N>" prefixes (SyslogLevelPrefix=yes) when we are not on a TTY.
  log::configure(verbose ? log::Level::debug : log::Level::info,
                 isatty(STDERR_FILENO) ? log::Sink::tty : log::Sink::journald);
}

int verb_run(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    fmt::print(
        "usage: binder-firstboot run [--root DIR] [--metadata FILE] [-v]\n\n"
        "Runs every step not yet done (metadata, host, k3s, federation join), resuming\n"
        "after the last completed one. Writes /var/lib/binder-firstboot/complete when done.\n");
    return 0;
  }
  auto o = parse(args, "run", true, false);
  if (!o) {
    return 2;
  }
  configure_logs(o->verbose);
  app::AgentOptions ao;
  ao.root = std::filesystem::absolute(o->root);
  ao.metadata_file = o->metadata;
  ao.join = federation::options_from_environment();
  if (ao.root == "/") {
    ao.report.console = app::ConsoleTargets{};  // serial console, tty1, /etc/issue
  }
  // Phone home trusts what the vendor APIs trust (BINDER_FIRSTBOOT_CA_FILE adds to the system store).
  ao.report.phone_home_http.ca_file = ao.join.http.ca_file;
  ao.report.phone_home_http.also_system_cas = true;
  SystemCommandRunner runner;
  SystemClock clock;
  return app::run_agent(ao, runner, clock);
}

int verb_status(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    fmt::print(
        "usage: binder-firstboot status [--root DIR] [--timeline] [--json]\n\n"
        "Shows each step's state from the journal, the current step and the last error;\n"
        "once k3s runs, also any HelmChart whose install or upgrade failed.\n"
        "--timeline: when each stage happened, from power-on (network, metadata, each\n"
        "step, k3s ready, charts ready, HTTPS healthy, in rotation), with durations.\n");
    return 0;
  }
  auto o = parse(args, "status", false, true);
  if (!o) {
    return 2;
  }
  configure_logs(o->verbose);
  auto s = app::collect_status(o->root);
  if (!s) {
    log::error("{}", s.error().to_string());
    return common::exit_code_for(s.error());
  }
  if (o->timeline) {
    const auto& t = (*s)["timeline"];
    fmt::print("{}", o->json ? log::redact(t.dump(2)) + "\n" : log::redact(app::format_timeline(t)));
    return 0;
  }
  (*s)["releases"] = app::collect_release_health(o->root);
  if (o->json) {
    fmt::print("{}\n", log::redact(s->dump(2)));
  } else {
    fmt::print("{}", app::format_status(*s));
  }
  return 0;
}

int verb_plan(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    fmt::print(
        "usage: binder-firstboot plan [--root DIR] [--metadata FILE] [--json]\n\n"
        "Loads the metadata and machine facts and lists every step with what it would do;\n"
        "changes nothing (secrets are redacted).\n");
    return 0;
  }
  auto o = parse(args, "plan", true, true);
  if (!o) {
    return 2;
  }
  configure_logs(o->verbose);
  app::AgentOptions ao;
  ao.root = o->root;
  ao.metadata_file = o->metadata;
  ao.join = federation::options_from_environment();
  SystemCommandRunner runner;
  return app::plan_main(ao, runner, o->json);
}

int dispatch(const std::vector<std::string>& words) {
  if (words.empty() || words[0] == "-h" || words[0] == "--help" || words[0] == "help") {
    fmt::print("{}", k_usage);
    return words.empty() ? 2 : 0;
  }
  if (words[0] == "--version") {
    fmt::print("binder-firstboot {}\n", BINDER_VERSION);
    return 0;
  }
  std::vector<std::string> rest(words.begin() + 1, words.end());
  const std::string& verb = words[0];
  if (verb == "run") {
    return verb_run(rest);
  }
  if (verb == "status") {
    return verb_status(rest);
  }
  if (verb == "plan") {
    return verb_plan(rest);
  }
  if (verb == "handover") {
    return app::verb_handover(rest);
  }
  if (verb == "render") {
    configure_logs(false);
    return render::render_main(rest);
  }
  fmt::print(stderr, "binder-firstboot: unknown verb '{}' (see --help)\n", verb);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    fmt::print(stderr, "internal error: {}\n", e.what());
    return 70;
  }
}

}  // namespace binder::firstboot
