// See tree.hpp. yaml-cpp 0.7 keeps duplicate map keys, so they are reported here.
#include "config/tree.hpp"

#include <algorithm>

#include <yaml-cpp/yaml.h>

#include "common/yaml_guard.hpp"

namespace binder::config {

const Node* Node::find(std::string_view key) const {
  for (const Entry& e : entries) {
    if (e.key == key) {
      return &e.value;
    }
  }
  return nullptr;
}

Node* Node::find(std::string_view key) {
  return const_cast<Node*>(static_cast<const Node*>(this)->find(key));
}

void Node::erase(std::string_view key) {
  std::erase_if(entries, [&](const Entry& e) { return e.key == key; });
}

std::string_view Node::kind_name() const {
  switch (kind) {
    case Kind::null:
      return "null";
    case Kind::scalar:
      return "a scalar";
    case Kind::map:
      return "a mapping";
    case Kind::seq:
      return "a list";
  }
  return "?";
}

namespace {

SourceLoc loc_of(const YAML::Node& n, const std::string& path) {
  YAML::Mark m = n.Mark();
  if (m.is_null()) {
    return SourceLoc{path, 1, 1};
  }
  return SourceLoc{path, m.line + 1, m.column + 1};
}

Node convert(const YAML::Node& y, const std::string& path, Diagnostics& diags) {
  Node n;
  n.loc = loc_of(y, path);
  switch (y.Type()) {
    case YAML::NodeType::Scalar:
      n.kind = Node::Kind::scalar;
      n.text = y.Scalar();
      break;
    case YAML::NodeType::Sequence:
      n.kind = Node::Kind::seq;
      for (const auto& item : y) {
        n.items.push_back(convert(item, path, diags));
      }
      break;
    case YAML::NodeType::Map:
      n.kind = Node::Kind::map;
      for (const auto& kv : y) {
        SourceLoc kloc = loc_of(kv.first, path);
        if (!kv.first.IsScalar()) {
          diags.error(kloc, "mapping keys must be plain strings");
          continue;
        }
        std::string key = kv.first.Scalar();
        if (auto first = std::find_if(n.entries.begin(), n.entries.end(),
                                      [&](const Entry& e) { return e.key == key; });
            first != n.entries.end()) {
          diags.error(kloc, fmt::format("duplicate key '{}' (first at line {})", key, first->key_loc.line),
                      std::nullopt, static_cast<int>(key.size()));
          continue;
        }
        Node value = convert(kv.second, path, diags);
        if (value.is_map()) {
          value.loc = kloc;  // errors about a whole mapping point at its key ("base:")
        }
        n.entries.push_back(Entry{key, kloc, std::move(value)});
      }
      break;
    default:
      n.kind = Node::Kind::null;
      break;
  }
  return n;
}

}  // namespace

std::optional<Node> parse_yaml(std::string_view text, const std::string& path, Diagnostics& diags,
                               EmptyIs empty_is) {
  // Size, bytes, depth and alias expansion first: yaml-cpp shares aliased nodes, convert()
  // would copy every use (common/yaml_guard.hpp). Binary text and huge lines are not
  // quoted under the error.
  if (auto problem = common::check_yaml_text(text)) {
    if (problem->quote) {
      diags.add_source(path, std::string(text));
    }
    diags.error(SourceLoc{path, problem->line, problem->col}, problem->message);
    return std::nullopt;
  }
  diags.add_source(path, std::string(text));
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsNull()) {
      Node empty;
      empty.kind = empty_is == EmptyIs::map ? Node::Kind::map : Node::Kind::null;
      empty.loc = SourceLoc{path, 1, 1};
      return empty;
    }
    return convert(root, path, diags);
  } catch (const YAML::Exception& e) {
    SourceLoc loc{path, e.mark.is_null() ? 1 : e.mark.line + 1, e.mark.is_null() ? 1 : e.mark.column + 1};
    diags.error(loc, fmt::format("invalid YAML: {}", e.msg));
    return std::nullopt;
  } catch (const std::exception& e) {
    diags.error(SourceLoc{path, 1, 1}, fmt::format("invalid YAML: {}", e.what()));
    return std::nullopt;
  }
}

}  // namespace binder::config
