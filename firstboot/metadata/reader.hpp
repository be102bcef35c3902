// Internal to the metadata validator (validate.cpp, validate_node.cpp, validate_registry.cpp): the
// Reader that checks a section's keys and converts values, recording a Diagnostic per problem,
// and the small syntax checks the sections share.
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/spellcheck.hpp"
#include "firstboot/metadata/member.hpp"
#include "firstboot/metadata/source_doc.hpp"
#include "firstboot/metadata/validate.hpp"

namespace binder::firstboot::metadata_detail {

using nlohmann::json;

class Reader {
 public:
  Reader(const SourceDoc& doc, std::vector<Diagnostic>& diags) : m_doc(doc), m_diags(diags) {}

  void error(const std::string& path, std::string message) {
    m_diags.push_back(
        {m_doc.where(path), "binder_member" + (path.empty() ? "" : "." + path), std::move(message)});
  }

  // The mapping at `path` (nullptr if absent); reports non-mappings and unknown keys.
  const json* object(const json& parent, const std::string& key, const std::string& path,
                     const std::vector<std::string>& known) {
    if (!parent.contains(key) || parent.at(key).is_null()) {
      return nullptr;
    }
    const json& v = parent.at(key);
    if (!v.is_object()) {
      error(path, fmt::format("expected a mapping, got {}", describe(v)));
      return nullptr;
    }
    check_keys(v, path, known);
    return &v;
  }

  void check_keys(const json& obj, const std::string& path, const std::vector<std::string>& known) {
    for (auto& [k, _] : obj.items()) {
      if (k.starts_with("x-") || std::find(known.begin(), known.end(), k) != known.end()) {
        continue;
      }
      auto s = common::suggest(k, known);
      error(join_path(path, k), s ? fmt::format("unknown key '{}', did you mean '{}'?", k, *s)
                                  : fmt::format("unknown key '{}'", k));
    }
  }

  std::optional<std::string> string(const json& obj, const std::string& key, const std::string& path) {
    if (!obj.contains(key) || obj.at(key).is_null()) {
      return std::nullopt;
    }
    const json& v = obj.at(key);
    if (v.is_string()) {
      return v.get<std::string>();
    }
    if (v.is_number() || v.is_boolean()) {
      return v.dump();
    }
    error(path, fmt::format("expected a string, got {}", describe(v)));
    return std::nullopt;
  }

  std::string required(const json& obj, const std::string& key, const std::string& path) {
    auto v = string(obj, key, path);
    if (!v && !(obj.contains(key) && !obj.at(key).is_null())) {
      error(path, "required key is missing");
    } else if (v && v->empty()) {
      error(path, "must not be empty");
    }
    return v.value_or("");
  }

  std::vector<std::string> strings(const json& obj, const std::string& key, const std::string& path) {
    std::vector<std::string> out;
    if (!obj.contains(key) || obj.at(key).is_null()) {
      return out;
    }
    const json& v = obj.at(key);
    if (!v.is_array()) {
      error(path, fmt::format("expected a list of strings, got {}", describe(v)));
      return out;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) {
        error(fmt::format("{}[{}]", path, i), fmt::format("expected a string, got {}", describe(v[i])));
      } else {
        out.push_back(v[i].get<std::string>());
      }
    }
    return out;
  }

  template <typename E>
  std::optional<E> choice(const json& obj, const std::string& key, const std::string& path,
                          const std::vector<std::pair<std::string, E>>& options) {
    auto v = string(obj, key, path);
    if (!v) {
      return std::nullopt;
    }
    std::vector<std::string> names;
    for (const auto& [n, e] : options) {
      if (n == *v) {
        return e;
      }
      names.push_back(n);
    }
    auto s = common::suggest(*v, names);
    std::string list;
    for (const auto& n : names) {
      list += (list.empty() ? "'" : ", '") + n + "'";
    }
    error(path, fmt::format("expected one of {}, got '{}'{}", list, *v,
                            s ? fmt::format(", did you mean '{}'?", *s) : ""));
    return std::nullopt;
  }

  static std::string describe(const json& v) {
    switch (v.type()) {
      case json::value_t::object:
        return "a mapping";
      case json::value_t::array:
        return "a list";
      case json::value_t::boolean:
        return fmt::format("boolean {}", v.dump());
      case json::value_t::null:
        return "null";
      case json::value_t::string:
        return fmt::format("'{}'", v.get<std::string>());
      default:
        return fmt::format("number {}", v.dump());
    }
  }

 private:
  const SourceDoc& m_doc;
  std::vector<Diagnostic>& m_diags;
};

inline bool is_dns_label(const std::string& s) {
  static const std::regex k_label("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  return std::regex_match(s, k_label);
}

inline bool is_hostname(const std::string& s) {
  static const std::regex k_host(
      R"(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+)");
  return s.size() <= 253 && std::regex_match(s, k_host);
}

inline bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// The sections with their own files.
void read_node(Reader& r, const json& root, Member& m);
void read_registry(Reader& r, const json& root, Member& m);
void read_readiness(Reader& r, const json& root, Member& m);

}  // namespace binder::firstboot::metadata_detail
