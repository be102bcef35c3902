// Unified diffs. See unified_diff.hpp.
#include "firstboot/render/unified_diff.hpp"

#include <fmt/format.h>

namespace binder::firstboot::render {

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (b < text.size()) {
    std::size_t e = text.find('\n', b);
    if (e == std::string_view::npos) {
      out.emplace_back(text.substr(b));
      break;
    }
    out.emplace_back(text.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

namespace {

// "a,b" in a hunk header; git writes a single-line range as "a" and an empty one as "a-1,0".
std::string range(int start, int count) {
  if (count == 1)
    return fmt::format("{}", start);
  return fmt::format("{},{}", count == 0 ? start - 1 : start, count);
}

}  // namespace

std::string new_file_diff(std::string_view path, std::string_view text, std::string_view mode) {
  std::string out = fmt::format("diff --git a/{0} b/{0}\nnew file mode {1}\n", path, mode);
  if (text.empty())
    return out;
  auto lines = split_lines(text);
  out += fmt::format("--- /dev/null\n+++ b/{}\n@@ -0,0 +{} @@\n", path,
                     range(1, static_cast<int>(lines.size())));
  for (const auto& l : lines)
    out += "+" + l + "\n";
  if (!text.ends_with('\n'))
    out += "\\ No newline at end of file\n";
  return out;
}

std::string insertion_diff(std::string_view path, const std::vector<InsertionHunk>& hunks) {
  std::string out = fmt::format("diff --git a/{0} b/{0}\n--- a/{0}\n+++ b/{0}\n", path);
  int shift = 0;  // lines added by earlier hunks
  for (const auto& h : hunks) {
    int old_count = static_cast<int>(h.before.size() + h.after.size());
    int new_count = old_count + static_cast<int>(h.added.size());
    out +=
        fmt::format("@@ -{} +{} @@\n", range(h.old_start, old_count), range(h.old_start + shift, new_count));
    for (const auto& l : h.before)
      out += " " + l + "\n";
    for (const auto& l : h.added)
      out += "+" + l + "\n";
    for (const auto& l : h.after)
      out += " " + l + "\n";
    shift += static_cast<int>(h.added.size());
  }
  return out;
}

}  // namespace binder::firstboot::render
