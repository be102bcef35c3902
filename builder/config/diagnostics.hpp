// Compiler-style diagnostics for profiles: collect every error (with its SourceLoc and an
// optional "did you mean" hint), then render them all at once:
//   path:line:col: error: message
//   <source line>
//   <caret line>
//   did you mean 'x'?
// Locations without a line (built-in defaults, --set overrides) print "where: error: message".
// Not thread-safe; one per load.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace binder::config {

using common::SourceLoc;

struct Diagnostic {
  SourceLoc loc;
  std::string message;
  std::optional<std::string> hint;  // "did you mean 'packages'?"
  int width = 1;                    // caret width (length of the offending token)
};

class Diagnostics {
 public:
  // Registers a file's text so its lines can be quoted under errors.
  void add_source(const std::string& path, std::string text);
  void error(const SourceLoc& loc, std::string message, std::optional<std::string> hint = {}, int width = 1);
  // error() with a "did you mean" hint from the closest of `candidates` (if close enough).
  void error_suggest(const SourceLoc& loc, std::string message, std::string_view word,
                     const std::vector<std::string>& candidates);
  bool empty() const { return m_diags.empty(); }
  std::size_t count() const { return m_diags.size(); }
  // Every diagnostic, in file order (files in first-seen order, then line, then column).
  std::string render() const;
  // Errc::invalid_config with render() as the message.
  common::Error to_error() const;

 private:
  std::string source_line(const SourceLoc& loc) const;
  std::vector<Diagnostic> m_diags;
  std::map<std::string, std::string> m_sources;
};

}  // namespace binder::config
