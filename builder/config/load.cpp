// See load.hpp. Three phases, each collecting every diagnostic before the next: (1) read the
// files of the extends chain into located trees and merge them, then apply --set overrides;
// (2) walk the settings table over the merged tree (unknown keys, types, defaults);
// (3) cross-field validation (validate.cpp), only once (2) found nothing, so its rules never
// see half-parsed values.
#include "config/load.hpp"

#include <algorithm>

#include "common/fs.hpp"
#include "common/spellcheck.hpp"
#include "common/yaml_guard.hpp"
#include "config/parse_ctx.hpp"
#include "config/validate.hpp"
#include "config/values.hpp"

namespace binder::config {
namespace {

namespace stdfs = std::filesystem;

void relocate(Node& n, const SourceLoc& loc) {
  n.loc = loc;
  for (Entry& e : n.entries) {
    e.key_loc = loc;
    relocate(e.value, loc);
  }
  for (Node& i : n.items) {
    relocate(i, loc);
  }
}

// Parses YAML text that does not come from a file (defaults, --set values).
std::optional<Node> parse_inline(std::string_view text, const SourceLoc& loc, Diagnostics& diags) {
  Diagnostics scratch;
  auto n = parse_yaml(text, loc.path, scratch, EmptyIs::null);
  if (!n || !scratch.empty()) {
    diags.error(loc, fmt::format("invalid value '{}'", text));
    return std::nullopt;
  }
  relocate(*n, loc);
  return n;
}

bool replace_whole(const std::string& path) {
  const SettingSpec* s = find_setting(path);
  return s != nullptr && s->replace_whole;
}

class Loader {
 public:
  Diagnostics diags;
  std::vector<stdfs::path> files;

  // Reads `display` and its parents; the merged tree, or nullopt if the file is unusable.
  std::optional<Node> load_file(const stdfs::path& display, const SourceLoc* from) {
    std::error_code ec;
    stdfs::path canon = stdfs::weakly_canonical(display, ec);
    if (ec) {
      canon = display;
    }
    auto on_stack =
        std::find_if(m_stack.begin(), m_stack.end(), [&](const auto& f) { return f.first == canon; });
    if (on_stack != m_stack.end()) {
      std::vector<std::string> chain;
      for (auto it = on_stack; it != m_stack.end(); ++it) {
        chain.push_back(fmt::format("'{}'", it->second.string()));
      }
      chain.push_back(fmt::format("'{}'", display.string()));
      diags.error(*from, fmt::format("extends cycle: {}", fmt::join(chain, " -> ")));
      return std::nullopt;
    }
    SourceLoc at = from != nullptr ? *from : SourceLoc{display.string(), 0, 0};
    // Bounded read: a profile (or an `extends:` target) larger than the YAML limit, or a FIFO or
    // device, is refused before it is held in memory (common/yaml_guard.hpp).
    auto text = common::read_yaml_file(display);
    if (text && !*text) {
      diags.error(at, fmt::format("profile '{}' does not exist", display.string()));
      return std::nullopt;
    }
    if (!text) {
      diags.error(at, fmt::format("cannot read profile: {}", text.error().message));
      return std::nullopt;
    }
    auto root = parse_yaml(**text, display.string(), diags);
    if (!root) {
      return std::nullopt;
    }
    if (!root->is_map()) {
      diags.error(root->loc, fmt::format("expected a mapping at the top of '{}', got {}", display.string(),
                                         root->kind_name()));
      return std::nullopt;
    }
    m_stack.emplace_back(canon, display);
    Node merged;
    for (const Node* parent : extends_of(*root)) {
      auto v = expand_env(parent->text);
      if (!v) {
        diags.error(parent->loc, fmt::format("{} in 'extends'", v.error()));
        continue;
      }
      stdfs::path p =
          stdfs::path(*v).is_absolute() ? stdfs::path(*v) : (display.parent_path() / *v).lexically_normal();
      if (auto pn = load_file(p, &parent->loc)) {
        merge_into(merged, *pn, replace_whole);
      }
    }
    m_stack.pop_back();
    Node own = *root;
    own.erase("extends");
    merge_into(merged, own, replace_whole);
    files.push_back(display);
    return merged;
  }

 private:
  std::vector<const Node*> extends_of(const Node& root) {
    std::vector<const Node*> out;
    const Node* e = root.find("extends");
    if (e == nullptr || e->kind == Node::Kind::null) {
      return out;
    }
    if (e->kind == Node::Kind::scalar) {
      out.push_back(e);
    } else if (e->kind == Node::Kind::seq) {
      for (const Node& i : e->items) {
        if (i.kind == Node::Kind::scalar) {
          out.push_back(&i);
        } else {
          diags.error(i.loc, fmt::format("expected a path in 'extends', got {}", i.kind_name()));
        }
      }
    } else {
      diags.error(e->loc, "expected a path or a list of paths for 'extends', got a mapping");
    }
    return out;
  }

  std::vector<std::pair<stdfs::path, stdfs::path>> m_stack;  // (canonical, display)
};

// Sets `key.path=value` in the merged tree (creating mappings on the way).
void apply_set(Node& root, std::string_view assignment, Diagnostics& diags) {
  auto eq = assignment.find('=');
  std::string key(assignment.substr(0, eq == std::string_view::npos ? 0 : eq));
  SourceLoc loc{fmt::format("--set {}", key), 0, 0};
  if (eq == std::string_view::npos || key.empty()) {
    diags.error(SourceLoc{fmt::format("--set {}", assignment), 0, 0}, "expected key.path=value");
    return;
  }
  auto value = parse_inline(assignment.substr(eq + 1), loc, diags);
  if (!value) {
    return;
  }
  std::vector<std::string> segs;
  std::string prefix;
  std::size_t pos = 0;
  while (pos <= key.size()) {
    const SettingSpec* s = find_setting(prefix);
    if (s != nullptr && s->kind == ValueKind::string_map) {
      segs.push_back(key.substr(pos));  // sysctl names contain dots
      break;
    }
    std::size_t dot = key.find('.', pos);
    std::string seg = key.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    segs.push_back(seg);
    prefix = prefix.empty() ? seg : prefix + "." + seg;
    if (dot == std::string::npos) {
      break;
    }
    pos = dot + 1;
  }
  Node* cur = &root;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (!cur->is_map()) {
      *cur = Node{Node::Kind::map, {}, {}, {}, loc};
    }
    Node* next = cur->find(segs[i]);
    if (next == nullptr) {
      cur->entries.push_back(Entry{segs[i], loc, Node{}});
      next = &cur->entries.back().value;
    }
    cur = next;
  }
  *cur = *value;
}

std::string parent_of(std::string_view key) {
  auto dot = key.rfind('.');
  return dot == std::string_view::npos ? std::string() : std::string(key.substr(0, dot));
}

std::string leaf_of(std::string_view key) {
  auto dot = key.rfind('.');
  return std::string(dot == std::string_view::npos ? key : key.substr(dot + 1));
}

// Parses the settings under `prefix` (a table key: "", "k3s", "outputs[]") from `node` (a
// mapping, or nullptr when absent: defaults still apply). `shown` is the key as printed.
void walk(const std::string& prefix, const std::string& shown, const Node* node, ParseCtx& c) {
  std::vector<const SettingSpec*> children;
  std::vector<std::string> names;
  for (const SettingSpec& s : settings()) {
    if (parent_of(s.key) == prefix) {
      children.push_back(&s);
      names.push_back(leaf_of(s.key));
    }
  }
  auto join = [&](const std::string& leaf) { return shown.empty() ? leaf : shown + "." + leaf; };
  if (node != nullptr) {
    for (const Entry& e : node->entries) {
      if (e.key.starts_with("x-") || std::find(names.begin(), names.end(), e.key) != names.end()) {
        continue;
      }
      std::string where = shown.empty() ? "" : fmt::format(" in '{}'", shown);
      std::string msg = fmt::format("unknown key '{}'{}", e.key, where);
      if (!common::suggest(e.key, names)) {
        // Right name, wrong place ("size:" at the top): point at the full key.
        for (const SettingSpec& s : settings()) {
          if (leaf_of(s.key) == e.key && s.key.find("[]") == std::string_view::npos) {
            c.diags.error(e.key_loc, msg, fmt::format("did you mean '{}'?", s.key),
                          static_cast<int>(e.key.size()));
            msg.clear();
            break;
          }
        }
      }
      if (!msg.empty()) {
        c.diags.error_suggest(e.key_loc, msg, e.key, names);
      }
    }
  }
  const std::size_t item = c.item;
  for (const SettingSpec* s : children) {
    std::string leaf = leaf_of(s->key);
    std::string key = join(leaf);
    const Node* child = node != nullptr ? node->find(leaf) : nullptr;
    bool absent = child == nullptr || child->kind == Node::Kind::null;
    auto missing = [&] {
      c.diags.error(node->loc, shown.empty() ? fmt::format("missing required key '{}'", leaf)
                                             : fmt::format("missing required key '{}' in '{}'", leaf, shown));
    };
    auto call = [&](const Node* n) {
      c.spec = s;
      c.key = key;
      c.item = item;
      s->parse(n, c);
    };
    std::optional<Node> fallback;
    if (absent && !s->default_text.empty() && s->key.find("[]") == std::string_view::npos &&
        s->kind != ValueKind::section) {
      fallback = parse_inline(s->default_text, SourceLoc{"<default>", 0, 0}, c.diags);
    }
    const Node* use = absent ? (fallback ? &*fallback : nullptr) : child;
    switch (s->kind) {
      case ValueKind::extends:
        break;
      case ValueKind::section:
        if (child != nullptr && !child->is_map() && child->kind != Node::Kind::null) {
          c.key = key;
          c.expect(*child, Node::Kind::map, "a mapping");
        } else if (absent && s->required && node != nullptr) {
          missing();
        } else if (!(absent && s->required)) {
          walk(std::string(s->key), key, absent ? nullptr : child, c);
          call(child);
        }
        break;
      case ValueKind::list:
        if (use == nullptr) {
          break;
        }
        call(use);
        if (use->kind == Node::Kind::seq) {
          for (std::size_t i = 0; i < use->items.size(); ++i) {
            const Node& it = use->items[i];
            c.key = fmt::format("{}[{}]", key, i);
            if (c.expect(it, Node::Kind::map, "a mapping")) {
              c.item = i;
              walk(std::string(s->key) + "[]", c.key, &it, c);
            }
          }
        }
        break;
      default:
        if (use != nullptr) {
          call(use);
        } else if (s->required && node != nullptr) {
          missing();
        }
        break;
    }
  }
  c.item = item;
}

}  // namespace

Result<Profile> load_profile(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  Loader loader;
  auto tree = loader.load_file(path, nullptr);
  // A broken file in the chain makes everything after it noise (missing keys it would set).
  if (!tree || !loader.diags.empty()) {
    return std::unexpected(loader.diags.to_error());
  }
  for (const std::string& o : overrides) {
    apply_set(*tree, o, loader.diags);
  }
  Profile profile;
  profile.path = path;
  profile.files = loader.files;
  ParseCtx ctx{profile, loader.diags};
  walk("", "", &*tree, ctx);
  if (loader.diags.empty()) {
    validate_profile(profile, loader.diags);
  }
  if (!loader.diags.empty()) {
    return std::unexpected(loader.diags.to_error());
  }
  return profile;
}

}  // namespace binder::config
