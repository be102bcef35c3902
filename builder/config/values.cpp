// See values.hpp. from_chars everywhere: no locale, no exceptions.
#include "config/values.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <system_error>

#include <fmt/format.h>

namespace binder::config {

Parsed<std::uint64_t> parse_size(std::string_view text) {
  auto bad = [&] {
    return std::unexpected(
        fmt::format("invalid size '{}': expected a whole number with an optional K, M, G or T suffix", text));
  };
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) {
    return bad();
  }
  std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  if (suffix.ends_with("iB")) {
    suffix.remove_suffix(2);
  }
  int shift = 0;
  if (suffix == "K" || suffix == "k") {
    shift = 10;
  } else if (suffix == "M") {
    shift = 20;
  } else if (suffix == "G") {
    shift = 30;
  } else if (suffix == "T") {
    shift = 40;
  } else if (!suffix.empty()) {
    return bad();
  }
  if (shift > 0 && n > (UINT64_MAX >> shift)) {
    return std::unexpected(fmt::format("size '{}' is too large", text));
  }
  return n << shift;
}

std::string format_size(std::uint64_t bytes) {
  const char* units = "TGMK";
  for (int i = 0; i < 4; ++i) {
    int shift = 40 - 10 * i;
    std::uint64_t unit = std::uint64_t{1} << shift;
    if (bytes != 0 && bytes % unit == 0) {
      return fmt::format("{}{}", bytes >> shift, units[i]);
    }
  }
  return fmt::format("{}", bytes);
}

Parsed<bool> parse_bool(std::string_view text) {
  std::string t;
  for (char c : text) {
    t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (t == "true" || t == "yes") {
    return true;
  }
  if (t == "false" || t == "no") {
    return false;
  }
  return std::unexpected(fmt::format("invalid boolean '{}': expected true or false", text));
}

Parsed<std::int64_t> parse_int(std::string_view text) {
  std::string_view t = text;
  if (t.starts_with('+')) {
    t.remove_prefix(1);
  }
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty()) {
    return std::unexpected(fmt::format("invalid integer '{}'", text));
  }
  return n;
}

Parsed<double> parse_number(std::string_view text) {
  double d = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::unexpected(fmt::format("invalid number '{}'", text));
  }
  return d;
}

Parsed<std::string> expand_env(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
    } else if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      std::size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        return std::unexpected(fmt::format("unterminated '${{' in '{}'", text));
      }
      std::string name(text.substr(i + 2, close - i - 2));
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) {
        return std::unexpected(fmt::format("environment variable '{}' is not set", name));
      }
      out += v;
      i = close;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::filesystem::path resolve_path(const std::filesystem::path& base_dir, std::string_view value) {
  std::filesystem::path p(value);
  if (p.is_relative()) {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::absolute(base_dir, ec);
    p = (ec ? base_dir : base) / p;
  }
  return p.lexically_normal();
}

Parsed<std::string> parse_sha256(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      out.clear();
      break;
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out.size() != 64) {
    return std::unexpected(fmt::format("invalid sha256 '{}': expected 64 hex digits", text));
  }
  return out;
}

}  // namespace binder::config
