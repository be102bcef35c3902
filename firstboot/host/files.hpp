// Converging file helpers for host steps: write only when the content differs (so a second run
// reports unchanged), keep existing lines when adding ours, and parse simple "key = value" files.
// All paths are absolute system paths mapped under env.root().
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "firstboot/env.hpp"
#include "firstboot/step.hpp"

namespace binder::firstboot::host {

// Writes `content` atomically (mode) unless the file already has exactly that content and mode.
Result<Outcome> ensure_file(Env& env, std::string_view path, std::string_view content, mode_t mode = 0644);
// True when the file exists with exactly `content`.
Result<bool> file_has(const Env& env, std::string_view path, std::string_view content);

// Splits into lines without the trailing newline; a missing final newline is tolerated.
std::vector<std::string> split_lines(std::string_view text);
// Joins with '\n' and a final newline (empty input -> "").
std::string join_lines(const std::vector<std::string>& lines);

// Removes leading/trailing blanks.
std::string trim(std::string_view s);

}  // namespace binder::firstboot::host
