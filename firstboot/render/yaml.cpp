// A small YAML emitter over nlohmann::json. yaml-cpp's emitter would also do, but it keeps
// insertion order and quotes differently from PyYAML; this one makes byte-stable, sorted,
// reviewable output and is checked by round-trip tests through PyYAML and yaml-cpp.
#include "firstboot/render/yaml.hpp"

#include <regex>

#include "firstboot/metadata/source_doc.hpp"

namespace binder::firstboot::render {

namespace {

using nlohmann::json;

std::string spaces(int n) { return std::string(static_cast<size_t>(n), ' '); }

bool is_special_word(std::string_view s) {
  static const std::regex k_words(
      "^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|"
      "y|Y|n|N|=|<<)$");
  static const std::regex k_number(
      "^[-+]?(\\.?[0-9][0-9_]*(\\.[0-9_]*)?([eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|"
      "[0-9][0-9_]*(:[0-5]?[0-9])+(\\.[0-9_]*)?|\\.(inf|Inf|INF|nan|NaN|NAN))$");
  static const std::regex k_date("^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*$");
  std::string str(s);
  return std::regex_match(str, k_words) || std::regex_match(str, k_number) || std::regex_match(str, k_date);
}

std::string yaml_quoted(std::string_view s) { return json(std::string(s)).dump(); }

std::string scalar(const json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return needs_quotes(s) ? yaml_quoted(s) : s;
  }
  if (v.is_null())
    return "null";
  return v.dump();
}

// A multi-line string that a literal block keeps exactly: no tabs/CR/control characters, no
// trailing spaces on lines, first line not starting with a space.
bool literal_ok(const std::string& s) {
  if (s.find('\n') == std::string::npos || s.empty() || s[0] == ' ' || s[0] == '\n')
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f)
      return false;
    if (c == ' ' && (i + 1 == s.size() || s[i + 1] == '\n'))
      return false;
  }
  return true;
}

std::string literal(const std::string& s, int indent) {
  size_t trailing = 0;
  while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n')
    ++trailing;
  std::string out = trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
  out += "\n";
  std::string body = s.substr(0, s.size() - trailing);
  size_t start = 0;
  while (true) {
    size_t end = body.find('\n', start);
    std::string line = body.substr(start, end == std::string::npos ? std::string::npos : end - start);
    out += line.empty() ? "\n" : spaces(indent) + line + "\n";
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  for (size_t i = 1; i < trailing; ++i)
    out += "\n";
  return out;
}

void emit_block(const json& v, int indent, std::string& out);

// The text after "key:" or "- " for a value at `indent` (children indented below it).
void emit_value(const json& v, int indent, std::string& out, bool in_sequence) {
  if (v.is_object() && !v.empty()) {
    out += "\n";
    emit_block(v, indent + 2, out);
  } else if (v.is_array() && !v.empty()) {
    out += "\n";
    emit_block(v, in_sequence ? indent + 2 : indent, out);
  } else if (v.is_object()) {
    out += " {}\n";
  } else if (v.is_array()) {
    out += " []\n";
  } else if (v.is_string() && literal_ok(v.get_ref<const std::string&>())) {
    out += " " + literal(v.get_ref<const std::string&>(), indent + 2);
  } else {
    out += " " + scalar(v) + "\n";
  }
}

void emit_block(const json& v, int indent, std::string& out) {
  if (v.is_object()) {
    for (const auto& [k, val] : v.items()) {
      out += spaces(indent) + (needs_quotes(k) ? yaml_quoted(k) : k) + ":";
      emit_value(val, indent, out, false);
    }
    return;
  }
  for (const auto& item : v) {
    if (item.is_object() && !item.empty()) {
      std::string sub;
      emit_block(item, indent + 2, sub);
      out += spaces(indent) + "- " + sub.substr(static_cast<size_t>(indent) + 2);
    } else {
      out += spaces(indent) + "-";
      emit_value(item, indent, out, true);
    }
  }
}

}  // namespace

bool needs_quotes(std::string_view s) {
  if (s.empty() || is_special_word(s))
    return true;
  static const std::string_view k_leading = "-?:,[]{}#&*!|>'\"%@` \t";
  if (k_leading.find(s.front()) != std::string_view::npos) {
    // "-x" and "?x" and ":x" are plain in YAML 1.2 but not 1.1; quote them all.
    return true;
  }
  if (s.back() == ' ' || s.back() == ':' || s.back() == '\t')
    return true;
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos ||
      s.find(":\t") != std::string_view::npos) {
    return true;
  }
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f)
      return true;
  }
  return false;
}

std::string to_yaml(const nlohmann::json& value) {
  if ((value.is_object() || value.is_array()) && !value.empty()) {
    std::string out;
    emit_block(value, 0, out);
    return out;
  }
  if (value.is_object())
    return "{}\n";
  if (value.is_array())
    return "[]\n";
  if (value.is_string() && literal_ok(value.get_ref<const std::string&>())) {
    return literal(value.get_ref<const std::string&>(), 2);
  }
  return scalar(value) + "\n";
}

common::Result<nlohmann::json> from_yaml(std::string_view text, std::string origin) {
  TRY_ASSIGN(auto doc, parse_yaml_doc(text, std::move(origin)));
  return doc.value;
}

}  // namespace binder::firstboot::render
