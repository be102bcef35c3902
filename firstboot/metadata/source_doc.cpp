// YAML/JSON -> SourceDoc conversion and the provenance-keeping deep merge.
#include "firstboot/metadata/source_doc.hpp"

#include <algorithm>

#include <yaml-cpp/yaml.h>

#include "common/yaml_guard.hpp"

namespace binder::firstboot {
namespace {

using common::Result;
using nlohmann::json;

// YAML 1.2 core schema, by hand: std::regex recurses per character and overflows the stack on
// a long scalar (a hostile user-data of 1 MiB of digits).
bool is_core_int(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    s.remove_prefix(1);
  }
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_core_float(std::string_view s) {
  auto digits = [&] {
    std::size_t n = 0;
    while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
      s.remove_prefix(1);
      ++n;
    }
    return n;
  };
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    s.remove_prefix(1);
  }
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    if (digits() == 0) {
      return false;
    }
  } else {
    if (digits() == 0) {
      return false;
    }
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      digits();
    }
  }
  if (!s.empty() && (s[0] == 'e' || s[0] == 'E')) {
    s.remove_prefix(1);
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
      s.remove_prefix(1);
    }
    if (digits() == 0) {
      return false;
    }
  }
  return s.empty();
}

json scalar_value(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") {  // quoted: always a string
    return s;
  }
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return nullptr;
  }
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  if (is_core_int(s)) {
    try {
      return std::stoll(s);
    } catch (...) {
      return s;
    }
  }
  if (is_core_float(s)) {
    try {
      return std::stod(s);
    } catch (...) {
      return s;
    }
  }
  return s;
}

common::SourceLoc loc_of(const YAML::Node& n, const std::string& origin) {
  auto m = n.Mark();
  if (m.line < 0) {
    return {origin, 0, 0};
  }
  return {origin, m.line + 1, m.column + 1};
}

Result<json> convert(const YAML::Node& n, const std::string& path, SourceDoc& doc) {
  doc.locs[path] = loc_of(n, doc.origin);
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : n) {
        common::SourceLoc kloc = loc_of(kv.first, doc.origin);
        if (!kv.first.IsScalar()) {
          common::Error err{common::Errc::invalid_config, "mapping keys must be plain strings", kloc, {}};
          return std::unexpected(std::move(err));
        }
        std::string key = kv.first.Scalar();
        std::string child = join_path(path, key);
        if (obj.contains(key)) {
          common::Error err{common::Errc::invalid_config,
                            fmt::format("duplicate key '{}' (first at line {})", key, doc.locs[child].line),
                            kloc,
                            {}};
          return std::unexpected(std::move(err));
        }
        doc.locs[child] = kloc;
        TRY_ASSIGN(obj[key], convert(kv.second, child, doc));
        doc.locs[child] = kloc;
      }
      return obj;
    }
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      std::size_t i = 0;
      for (const auto& item : n) {
        TRY_ASSIGN(json v, convert(item, fmt::format("{}[{}]", path, i++), doc));
        arr.push_back(std::move(v));
      }
      return arr;
    }
    case YAML::NodeType::Scalar:
      return scalar_value(n);
    default:
      return nullptr;
  }
}

bool has_prefix_path(const std::string& path, const std::string& prefix) {
  if (prefix.empty()) {
    return true;
  }
  return path == prefix ||
         (path.starts_with(prefix) && (path[prefix.size()] == '.' || path[prefix.size()] == '['));
}

void merge_at(SourceDoc& base, json& target, const json& value, const SourceDoc& overlay,
              const std::string& path) {
  if (target.is_object() && value.is_object()) {
    for (auto& [k, v] : value.items()) {
      std::string child = join_path(path, k);
      if (target.contains(k)) {
        merge_at(base, target[k], v, overlay, child);
      } else {
        target[k] = v;
        for (const auto& [p, l] : overlay.locs) {
          if (has_prefix_path(p, child)) {
            base.locs[p] = l;
          }
        }
      }
    }
    return;
  }
  target = value;
  for (auto it = base.locs.begin(); it != base.locs.end();) {
    it = has_prefix_path(it->first, path) ? base.locs.erase(it) : std::next(it);
  }
  for (const auto& [p, l] : overlay.locs) {
    if (has_prefix_path(p, path)) {
      base.locs[p] = l;
    }
  }
}

}  // namespace

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

common::SourceLoc SourceDoc::where(const std::string& path) const {
  std::string p = path;
  while (true) {
    auto it = locs.find(p);
    if (it != locs.end()) {
      return it->second;
    }
    auto cut = p.find_last_of(".[");
    if (cut == std::string::npos) {
      break;
    }
    p.resize(cut);
  }
  return {origin, 0, 0};
}

common::Result<SourceDoc> parse_yaml_doc(std::string_view text, std::string origin) {
  SourceDoc doc;
  doc.origin = std::move(origin);
  // Size, bytes, depth and alias expansion first: yaml-cpp shares aliased nodes, convert() would
  // expand them (common/yaml_guard.hpp).
  if (auto problem = common::check_yaml_text(text)) {
    common::Error err{common::Errc::invalid_config, problem->message, std::nullopt, {}};
    err.where = common::SourceLoc{doc.origin, problem->line, problem->col};
    return std::unexpected(std::move(err));
  }
  try {
    YAML::Node root = YAML::Load(std::string(text));
    TRY_ASSIGN(doc.value, convert(root, "", doc));
    if (doc.value.is_null()) {
      doc.value = json::object();
    }
  } catch (const YAML::Exception& e) {
    common::Error err{common::Errc::invalid_config, e.msg, std::nullopt, {}};
    err.where = common::SourceLoc{doc.origin, e.mark.line + 1, e.mark.column + 1};
    return std::unexpected(std::move(err));
  }
  return doc;
}

common::Result<SourceDoc> parse_json_doc(std::string_view text, std::string origin) {
  SourceDoc doc;
  doc.origin = std::move(origin);
  // cloud-init writes these from the user-data: nesting is bounded like YAML's, as the tree is
  // copied and compared recursively later.
  const int max_depth = common::k_yaml_limits.max_depth;
  bool too_deep = false;
  json::parser_callback_t depth_check = [&](int depth, json::parse_event_t, json&) {
    too_deep = too_deep || depth > max_depth;
    return !too_deep;
  };
  doc.value = json::parse(text, depth_check, false);
  if (too_deep) {
    return common::fail(common::Errc::invalid_config, "'{}': JSON nesting exceeds the limit of {} levels",
                        doc.origin, max_depth);
  }
  if (doc.value.is_discarded()) {
    return common::fail(common::Errc::invalid_config, "'{}' is not valid JSON", doc.origin);
  }
  return doc;
}

std::optional<SourceDoc> sub_document(const SourceDoc& doc, const std::string& key) {
  if (!doc.value.is_object() || !doc.value.contains(key)) {
    return std::nullopt;
  }
  SourceDoc out;
  out.origin = doc.origin;
  out.value = doc.value.at(key);
  for (const auto& [p, l] : doc.locs) {
    if (p == key) {
      out.locs[""] = l;
    } else if (has_prefix_path(p, key)) {
      std::string rest = p.substr(key.size());
      out.locs[rest[0] == '.' ? rest.substr(1) : rest] = l;
    }
  }
  return out;
}

void merge_into(SourceDoc& base, const SourceDoc& overlay) {
  merge_at(base, base.value, overlay.value, overlay, "");
}

}  // namespace binder::firstboot
