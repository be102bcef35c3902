// Verbs about profiles and builds: build, plan, show-config, docs.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "base/accel.hpp"
#include "cli/verbs.hpp"
#include "common/build_date.hpp"
#include "common/log.hpp"
#include "config/load.hpp"
#include "config/settings.hpp"
#include "pipeline/build_image.hpp"

namespace binder::cli {
namespace {

namespace log = common::log;

Result<pipeline::BuildOptions> build_options(const Args& a) {
  pipeline::BuildOptions o;
  o.profile = a.positionals().at(0);
  for (const auto& s : a.values("--set")) {
    TRY(config::apply_override(o.overrides, s));
  }
  if (auto v = a.value("--output")) {
    o.output_dir = *v;
  }
  if (auto v = a.value("--accel")) {
    TRY_ASSIGN(o.accel, base::parse_accel_mode(*v));
  }
  o.json = a.has("--json");
  o.no_cache = a.has("--no-cache");
  TRY_ASSIGN(o.date, common::build_date_from_env());
  return o;
}

Result<int> run_build(const Args& a) {
  TRY_ASSIGN(pipeline::BuildOptions o, build_options(a));
  auto r = pipeline::build_image(o);
  if (!r) {
    if (o.json) {
      nlohmann::json j{{"event", "error"},
                       {"message", log::redact(r.error().to_string())},
                       {"exit_code", common::exit_code_for(r.error())}};
      fmt::print(stdout, "{}\n", j.dump());
    }
    return std::unexpected(r.error());
  }
  std::vector<std::string> outputs;
  for (const auto& p : r->outputs) {
    outputs.push_back(p.string());
  }
  if (o.json) {
    nlohmann::json j{{"event", "done"},
                     {"outputs", outputs},
                     {"launches", r->launches},
                     {"seconds", r->seconds},
                     {"layers_built", r->layers_built},
                     {"layers_cached", r->layers_cached}};
    fmt::print(stdout, "{}\n", j.dump());
  } else {
    log::info("built {} output{} in {} ({} layer{} built, {} cached, {} appliance launch{})", outputs.size(),
              outputs.size() == 1 ? "" : "s", log::format_duration(r->seconds), r->layers_built,
              r->layers_built == 1 ? "" : "s", r->layers_cached, r->launches, r->launches == 1 ? "" : "es");
    for (const auto& p : outputs) {
      fmt::print(stdout, "{}\n", p);
    }
  }
  return 0;
}

Result<int> run_plan(const Args& a) {
  TRY_ASSIGN(pipeline::BuildOptions o, build_options(a));
  TRY_ASSIGN(std::string text, pipeline::plan_image(o));
  fmt::print(stdout, "{}", text);
  return 0;
}

Result<int> run_show_config(const Args& a) {
  std::vector<std::string> overrides;
  for (const auto& s : a.values("--set")) {
    TRY(config::apply_override(overrides, s));
  }
  TRY_ASSIGN(config::Profile p, config::load_profile(a.positionals().at(0), overrides));
  fmt::print(stdout, "{}", config::show_config(p));
  return 0;
}

Result<int> run_docs(const Args&) {
  fmt::print(stdout, "{}", config::render_docs());
  return 0;
}

const OptionSpec k_set{"--set", "KEY=VALUE", "override a profile setting (repeatable)", true};

}  // namespace

std::vector<Verb> build_verbs() {
  return {
      Verb{"build",
           "PROFILE [options]",
           "Builds the image a profile describes: verified inputs, cached layers (qcow2 overlays "
           "named by the digest of their inputs), then every output format, manifest.json and "
           "SHA256SUMS in the output directory. Outputs appear only when complete.",
           {{"--output", "DIR", "output directory (default: out)"},
            k_set,
            {"--accel", "auto|kvm|tcg", "accelerator for libguestfs (default: auto)"},
            {"--json", "", "JSON-lines progress events on stdout"},
            {"--no-cache", "", "build every layer afresh (the layer cache is not used)"}},
           1,
           1,
           run_build},
      Verb{"plan",
           "PROFILE [options]",
           "Shows the layers a build of PROFILE would use, each a cache hit or a miss with the "
           "reason (what changed since the cached layer), and the appliance launches needed. "
           "Downloads nothing.",
           {k_set},
           1,
           1,
           run_plan},
      Verb{"show-config",
           "PROFILE [options]",
           "Prints every resolved setting of PROFILE with the file:line it came from.",
           {k_set},
           1,
           1,
           run_show_config},
      Verb{"docs", "", "Prints the profile settings reference (profiles/README.md).", {}, 0, 0, run_docs},
  };
}

}  // namespace binder::cli
