// A small command-line parser for one verb: declared options (flags, valued, repeatable), then
// positionals. "--opt value" and "--opt=value"; "--" ends options. Unknown options are usage
// errors with a did-you-mean. Non-logging.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace binder::cli {

using common::Result;

struct OptionSpec {
  std::string_view name;        // "--output"
  std::string_view value_name;  // "DIR"; empty for a flag
  std::string_view help;
  bool repeatable = false;
};

class Args {
 public:
  // Errc::usage for unknown options, missing values, a repeated non-repeatable option, or a
  // positional count outside [min_positional, max_positional].
  static Result<Args> parse(std::string_view verb, const std::vector<std::string>& argv,
                            const std::vector<OptionSpec>& specs, std::size_t min_positional,
                            std::size_t max_positional);
  bool has(std::string_view name) const { return m_values.contains(std::string(name)); }
  std::optional<std::string> value(std::string_view name) const;
  std::vector<std::string> values(std::string_view name) const;
  const std::vector<std::string>& positionals() const { return m_positionals; }

 private:
  std::map<std::string, std::vector<std::string>> m_values;
  std::vector<std::string> m_positionals;
};

// "  --output DIR    where outputs go" lines for --help.
std::string format_options(const std::vector<OptionSpec>& specs);

}  // namespace binder::cli
