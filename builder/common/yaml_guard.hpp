// Limits for YAML from outside the program (profiles, member metadata, cloud-config user-data),
// checked on the text before yaml-cpp builds a tree. yaml-cpp shares aliased nodes, so an alias
// bomb ("billion laughs") is cheap to load and explodes only when a converter walks it; the
// check streams the parser's events and counts nodes as a converter would see them (every use
// of an alias counts its whole anchored subtree), so nothing large is ever allocated.
//
// | limit       | value     | why                                                              |
// |-------------|-----------|------------------------------------------------------------------|
// | max_bytes   | 1 MiB     | real profiles and member files are < 20 KiB; cloud user-data is  |
// |             |           | capped at 16-256 KiB by the clouds                               |
// | max_depth   | 64        | nesting levels (aliases expanded); our documents use < 10        |
// | max_nodes   | 100000    | nodes (keys, values, items) after alias expansion                |
// | bytes       | text only | NUL and other C0 controls (but tab, LF, CR), DEL, invalid UTF-8  |
//
// Also refused: an alias used inside its own anchored node (a cycle; yaml-cpp accepts it and a
// converter would recurse forever). Syntax errors are left to the parser that follows.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace binder::common {

struct YamlLimits {
  std::size_t max_bytes = std::size_t{1} << 20;
  int max_depth = 64;
  std::size_t max_nodes = 100'000;
};

// The limits both YAML readers (builder/config/tree.cpp, firstboot/metadata/source_doc.cpp) use.
inline constexpr YamlLimits k_yaml_limits{};

struct YamlProblem {
  std::string message;  // "YAML alias expansion exceeds the limit of 100000 nodes"
  int line = 1;         // 1-based position of the offending byte, alias or node
  int col = 1;
  bool quote = true;  // false: do not quote the line under the message (binary, or > 400 bytes)
};

// The first limit the first document of `text` breaks, or nullopt when it stays within all.
std::optional<YamlProblem> check_yaml_text(std::string_view text, const YamlLimits& limits = k_yaml_limits);

// Reads a YAML file of at most limits.max_bytes without ever holding more: nullopt when it does
// not exist; Errc::invalid_config naming the file and the limit when it is larger, or when it is
// not a regular file (a FIFO, /dev/zero: a read would never end); Errc::io otherwise.
Result<std::optional<std::string>> read_yaml_file(const std::filesystem::path& path,
                                                  const YamlLimits& limits = k_yaml_limits);

}  // namespace binder::common
