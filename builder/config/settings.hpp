// The settings table: every profile key declared once (key path, kind, default, help, which
// layer it affects). The table drives parsing and unknown-key detection (load.cpp), the
// generated reference profiles/README.md (render_docs), `binder-image show-config`
// (show_config) and the layer cache keys (canonical_settings).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "config/profile.hpp"

namespace binder::config {

using common::Result;

struct Node;
struct ParseCtx;
struct RenderCtx;

enum class ValueKind {
  section,  // a mapping of further settings
  string,
  boolean,
  integer,
  number,
  size,         // "20G": bytes, K/M/G/T suffixes (powers of 1024)
  enumeration,  // one of SettingSpec::choices
  path,         // ${VAR} expanded, resolved against the YAML file's directory
  url,          // ${VAR} expanded
  url_or_path,  // http(s) URL, else a path
  string_list,
  string_map,  // free keys -> scalars (sysctls)
  list,        // a list of mappings whose keys are the "<key>[]." settings (outputs)
  extends,     // a path or a list of paths
};
std::string_view to_string(ValueKind k);

// Leaf: parse `node` into the profile (node is never null for leaves). Section: called after
// its children with the section node (nullptr when absent) to check one-of rules and derive
// defaults. List: called before its items with the list node. (parse_ctx.hpp)
using ParseFn = void (*)(const Node* node, ParseCtx& ctx);
// Emits the resolved value(s) of the setting (nothing for sections). (parse_ctx.hpp)
using RenderFn = void (*)(const Profile& profile, RenderCtx& out);

struct SettingSpec {
  std::string_view key;  // "k3s.binary.url"; list items: "outputs[].format"
  ValueKind kind;
  // YAML text parsed like a value from a file when the key is absent (docs show it as is);
  // "" = no default.
  std::string_view default_text;
  std::string_view help;  // one paragraph
  LayerKind affects;
  std::vector<std::string_view> choices = {};  // enumeration / list values, in enum order
  bool required = false;                       // missing -> error at the parent mapping
  bool replace_whole = false;                  // a child profile's mapping replaces the parent's whole
  ParseFn parse = nullptr;
  RenderFn render = nullptr;
};

// The table, in documentation order.
const std::vector<SettingSpec>& settings();
// The spec for a key path ("k3s.version", "outputs[].format"), or nullptr.
const SettingSpec* find_setting(std::string_view key);
// Every settable key path (for the CLI's --set completion and suggestions), table order.
std::vector<std::string> setting_keys();

// Canonical text of every setting affecting `layer`, resolved values only: one "key=value" line
// per value, sorted by key. Independent of YAML comments, key order and source locations;
// changed by any real value. Feed it to the layer digest.
std::string canonical_settings(const Profile& profile, LayerKind layer);

// The Markdown settings reference checked in as profiles/README.md (a unit test keeps it equal).
std::string render_docs();

// Resolved values, one per line with the file:line it came from ("<default>" for defaults), for
// `binder-image show-config`.
std::string show_config(const Profile& profile);

// Applies one "key.path=value" override to `overrides` after checking the key is a known
// setting (did-you-mean on a typo). load_profile() takes the accumulated list. Errc::usage.
Result<void> apply_override(std::vector<std::string>& overrides, std::string_view assignment);

}  // namespace binder::config
