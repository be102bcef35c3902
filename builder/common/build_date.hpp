// The build's date: the one value behind every timestamp a build writes (file times in layers,
// tar members, build.json, manifest.json, the SBOM's created time, export headers). It is parsed
// once, at the CLI edge, from SOURCE_DATE_EPOCH (reproducible-builds.org), and travels
// explicitly from there; the profile's reproducible.source_date_epoch overrides it.
#pragma once

#include <cstdint>
#include <optional>

#include "common/result.hpp"

namespace binder::common {

// 2023-11-14T22:13:20Z: the file time when no SOURCE_DATE_EPOCH is given.
inline constexpr std::int64_t k_default_file_time = 1700000000;

struct BuildDate {
  // Seconds since 1970 from SOURCE_DATE_EPOCH or the profile; nullopt: not given.
  std::optional<std::int64_t> source_date_epoch;

  // The time of what the build writes into the image and its metadata: source_date_epoch, else
  // k_default_file_time (so layer trees are reproducible even without it).
  std::int64_t file_time() const { return source_date_epoch.value_or(k_default_file_time); }
};

// SOURCE_DATE_EPOCH from `value` (the environment variable's text; nullptr or "" = not given).
// Errc::usage for anything but a decimal number of seconds >= 0, naming the variable and value.
Result<BuildDate> parse_source_date_epoch(const char* value);

// parse_source_date_epoch(getenv("SOURCE_DATE_EPOCH")): for the CLI edge only.
Result<BuildDate> build_date_from_env();

}  // namespace binder::common
