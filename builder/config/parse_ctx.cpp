// See parse_ctx.hpp. Messages name the key ("for 'disk.size'") so an error reads well even
// without its source line.
#include "config/parse_ctx.hpp"

#include <algorithm>

#include "config/values.hpp"

namespace binder::config {

std::filesystem::path ParseCtx::dir_of(const SourceLoc& loc) {
  if (loc.line <= 0) {
    return std::filesystem::path(".");
  }
  std::filesystem::path dir = std::filesystem::path(loc.path).parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}

void ParseCtx::error(const Node& n, std::string message) {
  int width = n.kind == Node::Kind::scalar ? static_cast<int>(n.text.size()) : 1;
  diags.error(n.loc, std::move(message), std::nullopt, width);
}

bool ParseCtx::expect(const Node& n, Node::Kind kind, std::string_view what) {
  if (n.kind == kind) {
    return true;
  }
  diags.error(n.loc, fmt::format("expected {} for '{}', got {}", what, key, n.kind_name()));
  return false;
}

bool ParseCtx::expect_scalar(const Node& n) { return expect(n, Node::Kind::scalar, "a scalar"); }

std::optional<std::string> ParseCtx::expanded(const Node& n) {
  auto v = expand_env(n.text);
  if (!v) {
    error(n, fmt::format("'{}': {}", key, v.error()));
    return std::nullopt;
  }
  return *v;
}

bool ParseCtx::get(const Node& n, Located<std::string>& out) {
  if (!expect_scalar(n)) {
    return false;
  }
  out = {n.text, n.loc};
  return true;
}

bool ParseCtx::get(const Node& n, Located<bool>& out) {
  if (!expect_scalar(n)) {
    return false;
  }
  auto v = parse_bool(n.text);
  if (!v) {
    error(n, fmt::format("'{}': {}", key, v.error()));
    return false;
  }
  out = {*v, n.loc};
  return true;
}

bool ParseCtx::get(const Node& n, Located<int>& out) {
  if (!expect_scalar(n)) {
    return false;
  }
  auto v = parse_int(n.text);
  if (!v || *v < INT32_MIN || *v > INT32_MAX) {
    error(n, fmt::format("invalid integer '{}' for '{}'", n.text, key));
    return false;
  }
  out = {static_cast<int>(*v), n.loc};
  return true;
}

bool ParseCtx::get(const Node& n, Located<double>& out) {
  if (!expect_scalar(n)) {
    return false;
  }
  auto v = parse_number(n.text);
  if (!v) {
    error(n, fmt::format("'{}': {}", key, v.error()));
    return false;
  }
  out = {*v, n.loc};
  return true;
}

bool ParseCtx::get_epoch(const Node& n, Located<std::optional<std::int64_t>>& out) {
  if (!expect_scalar(n)) {
    return false;
  }
  auto v = parse_int(n.text);
  if (!v || *v < 0) {
    error(n, fmt::format("invalid timestamp '{}' for '{}': expected seconds since 1970", n.text, key));
    return false;
  }
  out = {*v, n.loc};
  return true;
}

bool ParseCtx::get_size(const Node& n, Located<std::uint64_t>& out) {
  if (!expect_scalar(n)) {
    return false;
  }
  auto v = parse_size(n.text);
  if (!v) {
    error(n, fmt::format("'{}': {}", key, v.error()));
    return false;
  }
  out = {*v, n.loc};
  return true;
}

bool ParseCtx::get_url(const Node& n, Located<std::string>& out) {
  if (!expect_scalar(n)) {
    return false;
  }
  auto v = expanded(n);
  if (!v) {
    return false;
  }
  if (!Checksum::is_url(*v)) {
    error(n, fmt::format("invalid URL '{}' for '{}': expected http:// or https://", *v, key));
    return false;
  }
  out = {*v, n.loc};
  return true;
}

bool ParseCtx::get_path(const Node& n, Located<std::filesystem::path>& out) {
  if (!expect_scalar(n)) {
    return false;
  }
  auto v = expanded(n);
  if (!v) {
    return false;
  }
  if (v->empty()) {
    error(n, fmt::format("empty path for '{}'", key));
    return false;
  }
  out = {resolve_path(dir_of(n.loc), *v), n.loc};
  return true;
}

bool ParseCtx::get_url_or_path(const Node& n, Located<std::string>& out) {
  if (!expect_scalar(n)) {
    return false;
  }
  auto v = expanded(n);
  if (!v) {
    return false;
  }
  if (Checksum::is_url(*v)) {
    out = {*v, n.loc};
  } else {
    out = {resolve_path(dir_of(n.loc), *v).string(), n.loc};
  }
  return true;
}

bool ParseCtx::get_sha256(const Node& n, Located<std::string>& out) {
  if (!expect_scalar(n)) {
    return false;
  }
  auto v = parse_sha256(n.text);
  if (!v) {
    error(n, fmt::format("'{}': {}", key, v.error()));
    return false;
  }
  out = {*v, n.loc};
  return true;
}

bool ParseCtx::get_choice(const Node& n, Located<std::size_t>& out) {
  if (!expect_scalar(n)) {
    return false;
  }
  std::vector<std::string> names(spec->choices.begin(), spec->choices.end());
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == n.text) {
      out = {i, n.loc};
      return true;
    }
  }
  diags.error_suggest(
      n.loc,
      fmt::format("invalid value '{}' for '{}': expected one of {}", n.text, key, fmt::join(names, ", ")),
      n.text, names);
  return false;
}

bool ParseCtx::get_list(const Node& n, StringList& out) {
  if (!expect(n, Node::Kind::seq, "a list")) {
    return false;
  }
  std::vector<std::string> names(spec->choices.begin(), spec->choices.end());
  StringList result{{}, n.loc};
  bool ok = true;
  for (const Node& it : n.items) {
    if (!expect_scalar(it)) {
      ok = false;
      continue;
    }
    if (!names.empty() && std::find(names.begin(), names.end(), it.text) == names.end()) {
      diags.error_suggest(it.loc, fmt::format("unknown value '{}' in '{}'", it.text, key), it.text, names);
      ok = false;
      continue;
    }
    result.value.push_back({it.text, it.loc});
  }
  if (ok) {
    out = std::move(result);
  }
  return ok;
}

void RenderCtx::operator()(std::string value, const SourceLoc& loc) {
  lines.push_back({std::string(spec->key), std::move(value), loc});
}

void RenderCtx::sub(std::string_view suffix, std::string value, const SourceLoc& loc) {
  lines.push_back({fmt::format("{}{}", spec->key, suffix), std::move(value), loc});
}

void RenderCtx::item(std::size_t index, std::string value, const SourceLoc& loc) {
  std::string k(spec->key);
  auto pos = k.find("[]");
  if (pos != std::string::npos) {
    k.replace(pos, 2, fmt::format("[{}]", index));
  }
  lines.push_back({std::move(k), std::move(value), loc});
}

std::string text_of(const Located<std::string>& v) { return v.value; }
std::string text_of(const Located<bool>& v) { return v.value ? "true" : "false"; }
std::string text_of(const Located<int>& v) { return fmt::format("{}", v.value); }
std::string text_of(const Located<double>& v) { return fmt::format("{}", v.value); }
std::string text_of(const Located<std::filesystem::path>& v) { return v.value.string(); }
std::string text_of(const StringList& v) {
  std::vector<std::string> items;
  for (const auto& i : v.value) {
    items.push_back(i.value);
  }
  return fmt::format("[{}]", fmt::join(items, ", "));
}

}  // namespace binder::config
