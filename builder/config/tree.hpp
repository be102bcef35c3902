// A located YAML tree: the yaml-cpp adapter for profiles. yaml-cpp marks carry no file name and
// are 0-based, so every node is converted once into a Node whose SourceLoc holds the file path
// (as given) and 1-based line/column. Files are merged (extends) and overridden (--set) on this
// tree, so every value keeps the location of the file that really set it. yaml-cpp exceptions
// never leave tree.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "config/diagnostics.hpp"

namespace binder::config {

struct Entry;

struct Node {
  enum class Kind { null, scalar, map, seq };
  Kind kind = Kind::null;
  std::string text;            // scalar text
  std::vector<Entry> entries;  // map entries in source order
  std::vector<Node> items;     // sequence items
  SourceLoc loc;

  bool is_map() const { return kind == Kind::map; }
  const Node* find(std::string_view key) const;
  Node* find(std::string_view key);
  // Removes `key` if present.
  void erase(std::string_view key);
  // "a mapping", "a list", "a scalar", "null": for "expected X, got Y" messages.
  std::string_view kind_name() const;
};

struct Entry {
  std::string key;
  SourceLoc key_loc;
  Node value;
};

// Parses YAML `text` of the file `path` (as it should appear in messages). Syntax errors and
// duplicate keys go to `diags` (the text is registered with them for caret lines); returns
// nullopt only when the text cannot be parsed at all. An empty (or null) document is an empty
// map for EmptyIs::map (a profile file), a null node for EmptyIs::null (a --set value).
enum class EmptyIs { map, null };
std::optional<Node> parse_yaml(std::string_view text, const std::string& path, Diagnostics& diags,
                               EmptyIs empty_is = EmptyIs::map);

// Merges `child` over `base`: mappings merge key by key (recursively), anything else is replaced.
// `replace_whole(key_path)` names mappings that a child replaces whole instead ("base").
// Key paths are dotted ("k3s.binary").
template <typename Pred>
void merge_into(Node& base, const Node& child, const Pred& replace_whole, const std::string& prefix = {}) {
  if (!(base.is_map() && child.is_map())) {
    base = child;
    return;
  }
  base.loc = child.loc;
  for (const Entry& e : child.entries) {
    std::string path = prefix.empty() ? e.key : prefix + "." + e.key;
    Node* existing = base.find(e.key);
    if (existing == nullptr) {
      base.entries.push_back(e);
    } else if (replace_whole(path)) {
      *existing = e.value;
    } else {
      merge_into(*existing, e.value, replace_whole, path);
    }
  }
}

}  // namespace binder::config
