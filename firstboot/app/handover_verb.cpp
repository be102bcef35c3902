// binder-firstboot handover. See handover_verb.hpp and federation/handover.hpp.
#include "firstboot/app/handover_verb.hpp"

#include <unistd.h>

#include <filesystem>

#include "common/log.hpp"
#include "firstboot/env.hpp"
#include "firstboot/federation/handover.hpp"

namespace binder::firstboot::app {

namespace log = common::log;

namespace {

constexpr std::string_view k_help =
    "usage: binder-firstboot handover [--root DIR] [--json] [-v]\n\n"
    "Hands this federation member over to mybinder.org's central deploy: every HelmChart the\n"
    "agent created (kube-system, label app.kubernetes.io/managed-by=binder-firstboot) is marked\n"
    "helmcharts.helm.cattle.io/unmanaged, then deleted; the Helm releases and their data stay.\n"
    "Writes the handover bundle (patch for mybinder.org-deploy, secret files, README) to\n"
    "/var/lib/binder-firstboot/export/handover/. Journaled: a rerun after a failure converges, a\n"
    "rerun after success says \"already handed over\" and changes nothing. Afterwards the agent\n"
    "no longer runs the federation steps. Run it on the member's server node.\n\n"
    "exit status: 0 handed over (or already), 1 failed or refused (nothing to hand over, agent\n"
    "node, standalone member), 2 usage, 75 the agent is running or the API is unreachable.\n";

}  // namespace

int verb_handover(const std::vector<std::string>& args) {
  std::filesystem::path root = "/";
  bool json_output = false;
  bool verbose = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      fmt::print("{}", k_help);
      return 0;
    }
    if (a == "--json") {
      json_output = true;
    } else if (a == "-v" || a == "--verbose") {
      verbose = true;
    } else if (a.starts_with("--root=")) {
      root = a.substr(7);
    } else if (a == "--root" && i + 1 < args.size()) {
      root = args[++i];
    } else {
      fmt::print(stderr, "binder-firstboot handover: unknown option '{}' (see --help)\n", a);
      return 2;
    }
  }
  log::configure(verbose ? log::Level::debug : log::Level::info,
                 isatty(STDERR_FILENO) ? log::Sink::tty : log::Sink::journald);
  log::set_prefix("handover: ");
  SystemClock clock;
  auto report = federation::run_handover(std::filesystem::absolute(root.empty() ? "/" : root),
                                         federation::options_from_environment(), clock);
  if (!report) {
    log::error("{}", report.error().to_string());
    return common::exit_code_for(report.error());
  }
  if (json_output) {
    fmt::print("{}\n", log::redact(report->to_json().dump(2)));
    return 0;
  }
  std::string out;
  std::string names;
  for (const auto& c : report->charts)
    names += (names.empty() ? "" : ", ") + c.name;
  if (report->already) {
    out = fmt::format("already handed over at {} (HelmCharts {}); nothing to do\n", report->time, names);
  } else {
    out = fmt::format("handed over at {}: central `deploy.py` now owns the releases\n", report->time);
    for (const auto& c : report->charts) {
      out += fmt::format("  HelmChart kube-system/{}: {}, {} (release stays{})\n", c.name,
                         c.annotated ? "annotated unmanaged" : "already unmanaged",
                         c.deleted ? "deleted" : "already gone",
                         c.target_namespace.empty() ? "" : " in namespace " + c.target_namespace);
    }
    out += fmt::format("bundle in {}{}:\n", report->bundle_dir.string(),
                       report->bundle_written ? "" : " (unchanged)");
    for (const auto& f : report->bundle_files)
      out += "  " + f + "\n";
    out += "next: give the bundle to the mybinder.org operators (read its README.md)\n";
  }
  fmt::print("{}", log::redact(out));
  return 0;
}

}  // namespace binder::firstboot::app
