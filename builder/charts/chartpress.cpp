// See chartpress.hpp. A small indentation tracker gives each `key:` line its values path; that is
// enough for values.yaml's block style (flow mappings never hold the placeholders).
#include "charts/chartpress.hpp"

#include <optional>
#include <set>
#include <vector>

#include "common/text.hpp"

namespace binder::charts {
namespace {

using common::Errc;
using common::fail;

constexpr std::string_view k_placeholder = "set-by-chartpress";

struct Segment {
  std::size_t indent;
  bool item;  // a sequence item ("- ")
  std::size_t index;
  std::string key;  // for mapping keys
};

using common::trim;

// The scalar of "key: value  # comment" without quotes and comment.
std::string scalar(std::string_view v) {
  v = trim(v);
  if (!v.empty() && (v.front() == '"' || v.front() == '\'')) {
    char q = v.front();
    auto end = v.find(q, 1);
    return std::string(v.substr(1, end == std::string_view::npos ? v.npos : end - 1));
  }
  auto hash = v.find(" #");
  return std::string(trim(v.substr(0, hash)));
}

std::string join(const std::vector<Segment>& stack) {
  std::string out;
  for (const auto& s : stack) {
    if (!out.empty())
      out += '.';
    out += s.item ? std::to_string(s.index) : s.key;
  }
  return out;
}

// Splits "key: rest" (key may be quoted); false for lines without a mapping key.
bool split_key(std::string_view content, std::string& key, std::string_view& rest) {
  auto colon = content.find(':');
  while (colon != std::string_view::npos && colon + 1 < content.size() && content[colon + 1] != ' ') {
    colon = content.find(':', colon + 1);
  }
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  std::string_view k = trim(content.substr(0, colon));
  if (k.size() >= 2 && (k.front() == '"' || k.front() == '\'') && k.back() == k.front()) {
    k = k.substr(1, k.size() - 2);
  }
  if (k.find_first_of(" \"'{[#") != std::string_view::npos) {
    return false;
  }
  key = std::string(k);
  rest = content.substr(colon + 1);
  return true;
}

}  // namespace

std::pair<std::string, std::string> split_image(std::string_view ref) {
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
    return {std::string(ref), ""};
  }
  return {std::string(ref.substr(0, colon)), std::string(ref.substr(colon + 1))};
}

bool has_chartpress_placeholder(std::string_view data) {
  return data.find(k_placeholder) != std::string_view::npos ||
         data.find("set.by.chartpress") != std::string_view::npos;
}

Result<std::string> pin_values_images(std::string_view values_yaml, std::string_view file,
                                      const std::map<std::string, std::string>& images) {
  std::vector<Segment> stack;
  std::map<std::string, std::string> scalars;  // path -> value seen so far (for `name:` checks)
  std::set<std::string> used;
  std::string out;
  out.reserve(values_yaml.size() + 256);
  std::size_t pos = 0;
  int line_no = 0;
  constexpr std::size_t k_none = std::string::npos;
  std::size_t block_scalar = k_none;  // indent of a `key: |` line whose text follows
  while (pos < values_yaml.size()) {
    std::size_t nl = values_yaml.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? values_yaml.size() : nl + 1;
    std::string line(values_yaml.substr(pos, end - pos));
    pos = end;
    ++line_no;
    std::string_view body = line;
    if (body.ends_with('\n'))
      body.remove_suffix(1);
    std::size_t indent = body.find_first_not_of(' ');
    if (indent == std::string_view::npos || body[indent] == '#' ||
        (block_scalar != k_none && indent > block_scalar)) {
      out += line;
      continue;
    }
    block_scalar = k_none;
    std::string_view content = body.substr(indent);
    // Sequence items: "- " (possibly "- - "), each one level.
    while (content.starts_with("- ") || content == "-") {
      while (!stack.empty() && stack.back().indent > indent) {
        stack.pop_back();
      }
      std::size_t index = 0;
      if (!stack.empty() && stack.back().item && stack.back().indent == indent) {
        index = stack.back().index + 1;
        stack.pop_back();
      }
      stack.push_back({indent, true, index, ""});
      std::size_t skip = content == "-" ? 1 : 2;
      content.remove_prefix(skip);
      std::size_t more = content.find_first_not_of(' ');
      indent += skip + (more == std::string_view::npos ? 0 : more);
      content = more == std::string_view::npos ? std::string_view{} : content.substr(more);
    }
    std::string key;
    std::string_view rest;
    if (content.empty() || !split_key(content, key, rest)) {
      out += line;
      continue;
    }
    while (!stack.empty() && stack.back().indent >= indent) {
      stack.pop_back();
    }
    std::string parent = join(stack);
    std::string path = parent.empty() ? key : parent + "." + key;
    std::string value = scalar(rest);
    if (value.starts_with('|') || value.starts_with('>')) {
      block_scalar = indent;
    }
    if (value.empty()) {
      stack.push_back({indent, false, 0, key});  // a block value follows
    } else {
      scalars[path] = value;
    }
    if (value.find(k_placeholder) == std::string::npos) {
      out += line;
      continue;
    }
    std::string where = fmt::format("{}:{}", file, line_no);
    std::size_t value_at = line.find(k_placeholder);
    if (key == "tag" && value == k_placeholder) {
      auto pin = images.find(parent);
      if (pin == images.end()) {
        return fail(Errc::invalid_config,
                    "{}: unresolvable chartpress tag at '{}': no pin for image '{}' in "
                    "charts.mybinder.images",
                    where, path, parent);
      }
      auto [repo, tag] = split_image(pin->second);
      auto name = scalars.find(parent + ".name");
      if (name != scalars.end() && name->second != repo) {
        return fail(Errc::invalid_config,
                    "{}: charts.mybinder.images '{}' pins '{}', but the chart's image is '{}'", where, parent,
                    repo, name->second);
      }
      if (tag.empty()) {
        return fail(Errc::invalid_config, "charts.mybinder.images '{}': '{}' has no tag", parent,
                    pin->second);
      }
      line.replace(value_at, k_placeholder.size(), tag);
      used.insert(parent);
    } else if (value.ends_with(std::string(":") + std::string(k_placeholder))) {
      auto pin = images.find(path);
      if (pin == images.end()) {
        return fail(Errc::invalid_config,
                    "{}: unresolvable chartpress tag at '{}' ('{}'): no pin in charts.mybinder.images", where,
                    path, value);
      }
      auto [repo, tag] = split_image(pin->second);
      std::string chart_repo = value.substr(0, value.size() - k_placeholder.size() - 1);
      if (chart_repo != repo || tag.empty()) {
        return fail(Errc::invalid_config,
                    "{}: charts.mybinder.images '{}' pins '{}', but the chart's image is '{}'", where, path,
                    pin->second, chart_repo);
      }
      line.replace(value_at, k_placeholder.size(), tag);
      used.insert(path);
    } else {
      return fail(Errc::invalid_config, "{}: unrecognised chartpress placeholder at '{}': '{}'", where, path,
                  value);
    }
    out += line;
  }
  for (const auto& [path, ref] : images) {
    if (!used.contains(path)) {
      return fail(Errc::invalid_config,
                  "charts.mybinder.images '{}' ('{}'): {} has no set-by-chartpress placeholder at "
                  "that path",
                  path, ref, file);
    }
  }
  return out;
}

Result<std::string> pin_chart_version(std::string_view chart_yaml, std::string_view file,
                                      std::string_view version) {
  std::string out;
  bool found = false;
  std::size_t pos = 0;
  while (pos < chart_yaml.size()) {
    std::size_t nl = chart_yaml.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? chart_yaml.size() : nl + 1;
    std::string line(chart_yaml.substr(pos, end - pos));
    pos = end;
    if (line.starts_with("version:")) {
      std::string current = scalar(std::string_view(line).substr(8));
      if (current != "0.0.1-set.by.chartpress" && current != version) {
        return fail(Errc::invalid_config,
                    "{}: version '{}' is neither the chartpress placeholder nor the pinned '{}'", file,
                    current, version);
      }
      line = fmt::format("version: \"{}\"\n", version);
      found = true;
    }
    out += line;
  }
  if (!found) {
    return fail(Errc::invalid_config, "{}: no top-level 'version:'", file);
  }
  return out;
}

}  // namespace binder::charts
