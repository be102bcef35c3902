// The top-down build pipeline of `binder-image build` and the dry run of `binder-image plan`.
// Logs progress (stderr, or JSON lines on stdout with --json); returns errors, never exits.
#pragma once

#include <string>

#include "common/result.hpp"
#include "pipeline/build_options.hpp"

namespace binder::pipeline {

using common::Result;

struct BuildSummary {
  std::filesystem::path output_dir;
  std::vector<std::filesystem::path> outputs;
  int launches = 0;  // libguestfs appliance launches of this build
  double seconds = 0;
  int layers_built = 0;
  int layers_cached = 0;
};

// Profile -> verified inputs -> layers (cached) -> outputs + manifest.json + SHA256SUMS.
// Errors: Errc::invalid_config/usage (exit 2) before any work for a bad profile or output
// rules; otherwise build errors naming the file/URL/step (exit 1). On failure no partial output
// and no uncommitted cache entry remain.
Result<BuildSummary> build_image(const BuildOptions& options);

// Loads the profile, resolves input checksums without downloading, and returns the layer plan
// text (hit/miss per layer with reasons) for `binder-image plan`.
Result<std::string> plan_image(const BuildOptions& options);

}  // namespace binder::pipeline
