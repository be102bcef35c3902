// Loading a profile: YAML files (with `extends:`), `--set key.path=value` overrides, defaults,
// path resolution and validation, in one call. This is the only place yaml-cpp exceptions are
// caught for profiles. Non-logging: every problem is returned, never printed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "config/profile.hpp"

namespace binder::config {

using common::Result;

// Loads `path` (the chain of `extends:` files first, children override parents key by key;
// one-of mappings such as `base` and `k3s.binary` are replaced whole), applies `overrides`
// ("key.path=value", the value parsed as YAML, e.g. `outputs=[{format: raw}]`), fills defaults,
// resolves paths against the directory of the file that set them, expands ${VAR} in path and
// URL values, and validates (types, enums, sizes, checksums, provider rules for outputs, baked
// secrets in member files).
// On success: a complete, valid Profile.
// On failure: Errc::invalid_config, and Error::message holds EVERY diagnostic found, each as
//   path:line:col: error: message
//   <the source line>
//   <caret line>
//   did you mean 'x'?            (only for unknown keys and enum values)
// separated by newlines; print it as-is (Error::where is not set, so to_string() == message).
// Paths in messages are printed as given (relative stays relative).
Result<Profile> load_profile(const std::filesystem::path& path,
                             const std::vector<std::string>& overrides = {});

// Checks that every local input the profile names exists: base file/tarball, k3s files,
// sha256sums files, overlay directories, the firstboot binary if set. The pipeline calls it
// before any work; errors point at the YAML line (same format as load_profile).
Result<void> check_inputs_exist(const Profile& profile);

// The secret values in the profile's member file (none without one): the pipeline registers
// them with log::add_secret() before it reads or copies the file. Errors: the file is
// unreadable or not YAML (Errc::io / invalid_config).
Result<std::vector<std::string>> member_secret_values(const Profile& profile);

}  // namespace binder::config
