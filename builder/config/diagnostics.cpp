// See diagnostics.hpp. Caret lines copy tabs from the source line so the caret lines up.
#include "config/diagnostics.hpp"

#include <algorithm>

#include "common/spellcheck.hpp"

namespace binder::config {

void Diagnostics::add_source(const std::string& path, std::string text) { m_sources[path] = std::move(text); }

void Diagnostics::error(const SourceLoc& loc, std::string message, std::optional<std::string> hint,
                        int width) {
  m_diags.push_back(Diagnostic{loc, std::move(message), std::move(hint), std::max(width, 1)});
}

void Diagnostics::error_suggest(const SourceLoc& loc, std::string message, std::string_view word,
                                const std::vector<std::string>& candidates) {
  std::optional<std::string> hint;
  if (auto s = common::suggest(word, candidates)) {
    hint = fmt::format("did you mean '{}'?", *s);
  }
  error(loc, std::move(message), std::move(hint), static_cast<int>(word.size()));
}

std::string Diagnostics::source_line(const SourceLoc& loc) const {
  auto it = m_sources.find(loc.path);
  if (it == m_sources.end() || loc.line <= 0) {
    return {};
  }
  const std::string& text = it->second;
  std::size_t pos = 0;
  for (int l = 1; l < loc.line; ++l) {
    pos = text.find('\n', pos);
    if (pos == std::string::npos) {
      return {};
    }
    ++pos;
  }
  std::size_t end = text.find('\n', pos);
  std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

std::string Diagnostics::render() const {
  std::vector<std::string> order;
  for (const auto& d : m_diags) {
    if (std::find(order.begin(), order.end(), d.loc.path) == order.end()) {
      order.push_back(d.loc.path);
    }
  }
  auto rank = [&](const Diagnostic& d) {
    auto file = std::find(order.begin(), order.end(), d.loc.path) - order.begin();
    return std::tuple(file, d.loc.line, d.loc.col);
  };
  std::vector<Diagnostic> sorted = m_diags;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
  std::string out;
  for (const auto& d : sorted) {
    if (!out.empty()) {
      out += '\n';
    }
    out += fmt::format("{}: error: {}", d.loc.to_string(), d.message);
    std::string line = source_line(d.loc);
    if (!line.empty()) {
      std::string caret;
      for (int i = 0; i + 1 < d.loc.col && i < static_cast<int>(line.size()); ++i) {
        caret += line[static_cast<std::size_t>(i)] == '\t' ? '\t' : ' ';
      }
      caret += '^';
      caret.append(static_cast<std::size_t>(d.width - 1), '~');
      out += fmt::format("\n{}\n{}", line, caret);
    }
    if (d.hint) {
      out += '\n';
      out += *d.hint;
    }
  }
  return out;
}

common::Error Diagnostics::to_error() const {
  return common::Error{common::Errc::invalid_config, render(), std::nullopt, {}};
}

}  // namespace binder::config
