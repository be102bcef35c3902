// Options of `binder-image build` and `plan`, filled by the CLI and passed down (no globals).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/accel.hpp"
#include "common/build_date.hpp"

namespace binder::pipeline {

struct BuildOptions {
  std::filesystem::path profile;
  std::vector<std::string> overrides;  // "key.path=value" (--set)
  std::filesystem::path output_dir = "out";
  base::AccelMode accel = base::AccelMode::auto_;
  bool json = false;                 // JSON-lines events on stdout
  bool no_cache = false;             // build every layer in a private temporary cache
  std::filesystem::path cache_root;  // empty: ${XDG_CACHE_HOME:-~/.cache}/binder-image
  // SOURCE_DATE_EPOCH, parsed once by the CLI (common::build_date_from_env); the profile's
  // reproducible.source_date_epoch overrides it.
  common::BuildDate date;
};

}  // namespace binder::pipeline
