// The verb table of binder-image: each verb declares its name, synopsis, help, options and
// positional count once; cli.cpp parses, prints --help from it and dispatches.
#pragma once

#include <string_view>
#include <vector>

#include "cli/args.hpp"

namespace binder::cli {

struct Verb {
  std::string_view name;
  std::string_view synopsis;  // "PROFILE [options]"
  std::string_view help;      // one paragraph
  std::vector<OptionSpec> options;
  std::size_t min_positional = 0;
  std::size_t max_positional = 0;
  // Runs the verb; returns the exit code on success (0, or 1 for "ran, found problems").
  Result<int> (*run)(const Args& args) = nullptr;
};

std::vector<Verb> build_verbs();  // build, plan, show-config, docs (verbs_build.cpp)
std::vector<Verb> image_verbs();  // inspect, cache (verbs_image.cpp)
std::vector<Verb> seed_verbs();   // seed, member-data (verbs_seed.cpp)

}  // namespace binder::cli
