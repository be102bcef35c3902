// Verbs about built images and the layer cache: inspect, cache ls|gc|clean.
#include <ctime>

#include <nlohmann/json.hpp>

#include "cli/verbs.hpp"
#include "common/log.hpp"
#include "layers/layer_cache.hpp"
#include "pipeline/inspect.hpp"

namespace binder::cli {
namespace {

using common::Errc;
using common::fail;
namespace log = common::log;

std::string human_size(std::uint64_t bytes) {
  if (bytes >= (1ull << 30)) {
    return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1ull << 30));
  }
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1ull << 20));
}

Result<int> run_inspect(const Args& a) {
  base::AccelMode mode = base::AccelMode::auto_;
  if (auto v = a.value("--accel")) {
    TRY_ASSIGN(mode, base::parse_accel_mode(*v));
  }
  TRY_ASSIGN(pipeline::InspectReport r, pipeline::inspect_image(a.positionals().at(0), mode));
  if (a.has("--json")) {
    fmt::print(stdout, "{}\n", pipeline::report_json(r).dump(2));
  } else {
    fmt::print(stdout, "{}", pipeline::format_report(r));
  }
  if (!r.ok()) {
    log::error("'{}' fails image checks", a.positionals().at(0));
    return 1;
  }
  return 0;
}

Result<int> run_cache(const Args& a) {
  layers::LayerCache cache = layers::LayerCache::from_env();
  const std::string& sub = a.positionals().at(0);
  if (sub == "ls") {
    auto entries = cache.list();
    std::uint64_t total = 0;
    for (const auto& m : entries) {
      total += m.size;
      std::time_t t = static_cast<std::time_t>(m.created);
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", std::gmtime(&t));
      fmt::print(stdout, "{}  {:<7} {:>10}  {}  parent {}\n", m.digest.substr(0, 16), m.kind,
                 human_size(m.size), when, m.parent.empty() ? "-" : m.parent.substr(0, 16));
    }
    fmt::print(stdout, "{} layer{}, {} in {}\n", entries.size(), entries.size() == 1 ? "" : "s",
               human_size(total), cache.dir().string());
    return 0;
  }
  layers::LayerCache::GcReport report;
  if (sub == "gc") {
    layers::LayerCache::GcPolicy policy;
    if (auto v = a.value("--keep-builds")) {
      policy.keep_builds = std::atoi(v->c_str());
    }
    if (auto v = a.value("--keep-days")) {
      policy.keep_younger = std::chrono::seconds(static_cast<long>(std::atof(v->c_str()) * 86400));
    }
    TRY_ASSIGN(report, cache.gc(policy));
  } else if (sub == "clean") {
    TRY_ASSIGN(report, cache.clean());
  } else {
    return fail(Errc::usage, "unknown cache command '{}' (ls, gc or clean)", sub);
  }
  fmt::print(stdout, "removed {} layer{}, freed {}\n", report.removed.size(),
             report.removed.size() == 1 ? "" : "s", human_size(report.freed));
  return 0;
}

}  // namespace

std::vector<Verb> image_verbs() {
  return {
      Verb{"inspect",
           "IMAGE [--json]",
           "Shows what an image holds without booting it (libguestfs, read-only): build.json, "
           "the k3s version, enabled units and the hygiene checks (empty machine-id, no SSH host "
           "keys, no k3s server state, no cloud-init state, resolv.conf). Exit 1 if a check fails.",
           {{"--json", "", "print the report as JSON"},
            {"--accel", "auto|kvm|tcg", "accelerator for libguestfs (default: auto)"}},
           1,
           1,
           run_inspect},
      Verb{"cache",
           "ls|gc|clean [options]",
           "Manages the layer cache (${XDG_CACHE_HOME:-~/.cache}/binder-image/layers): ls lists "
           "layers; gc removes layers not reachable from the last N builds and older than D days "
           "(and partial files of dead builds); clean removes every layer and partial file.",
           {{"--keep-builds", "N", "gc: keep the layers of the last N builds (default 3)"},
            {"--keep-days", "D", "gc: keep layers younger than D days (default 7)"}},
           1,
           1,
           run_cache},
  };
}

}  // namespace binder::cli
