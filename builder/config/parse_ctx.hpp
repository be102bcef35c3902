// What a setting's parse and render functions work with. ParseCtx holds the profile being
// filled, the diagnostics sink and the current key; its helpers parse one node into one
// Located field, reporting a located error (and leaving the field untouched) on a bad value.
// RenderCtx collects "key = value" pairs with their locations for show-config and cache keys.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/profile.hpp"
#include "config/settings.hpp"
#include "config/tree.hpp"

namespace binder::config {

struct ParseCtx {
  Profile& p;
  Diagnostics& diags;
  const SettingSpec* spec = nullptr;
  std::string key;       // display key: "outputs[1].format"
  std::size_t item = 0;  // index of the current list item ("outputs[]." settings)

  // Directory relative paths in a value at `loc` resolve against: the YAML file's directory,
  // or the current directory for --set overrides.
  static std::filesystem::path dir_of(const SourceLoc& loc);

  void error(const Node& n, std::string message);
  // Type check: reports "expected X for 'key', got Y".
  bool expect_scalar(const Node& n);
  bool expect(const Node& n, Node::Kind kind, std::string_view what);

  bool get(const Node& n, Located<std::string>& out);
  bool get(const Node& n, Located<bool>& out);
  bool get(const Node& n, Located<int>& out);
  bool get(const Node& n, Located<double>& out);
  bool get_epoch(const Node& n, Located<std::optional<std::int64_t>>& out);
  bool get_size(const Node& n, Located<std::uint64_t>& out);
  bool get_url(const Node& n, Located<std::string>& out);  // http(s) only, ${VAR} expanded
  bool get_path(const Node& n, Located<std::filesystem::path>& out);
  bool get_url_or_path(const Node& n, Located<std::string>& out);
  bool get_sha256(const Node& n, Located<std::string>& out);
  // A list of scalars; checked against spec->choices when there are any.
  bool get_list(const Node& n, StringList& out);
  // One of spec->choices; the index is the enum value (choices are listed in enum order).
  bool get_choice(const Node& n, Located<std::size_t>& out);
  template <typename E>
  bool get_enum(const Node& n, Located<E>& out) {
    Located<std::size_t> i;
    if (!get_choice(n, i)) {
      return false;
    }
    out = Located<E>{static_cast<E>(i.value), i.loc};
    return true;
  }
  // ${VAR}-expanded scalar text (error at the node if a variable is unset).
  std::optional<std::string> expanded(const Node& n);
};

struct RenderLine {
  std::string key;
  std::string value;
  SourceLoc loc;
};

struct RenderCtx {
  const SettingSpec* spec = nullptr;
  std::vector<RenderLine> lines;

  // The setting's own key.
  void operator()(std::string value, const SourceLoc& loc);
  // Key + suffix (map entries: ".fs.inotify.max_user_watches").
  void sub(std::string_view suffix, std::string value, const SourceLoc& loc);
  // List items: "outputs[]" -> "outputs[2]".
  void item(std::size_t index, std::string value, const SourceLoc& loc);
};

// Text of a value for rendering.
std::string text_of(const Located<std::string>& v);
std::string text_of(const Located<bool>& v);
std::string text_of(const Located<int>& v);
std::string text_of(const Located<double>& v);
std::string text_of(const Located<std::filesystem::path>& v);
std::string text_of(const StringList& v);

}  // namespace binder::config
