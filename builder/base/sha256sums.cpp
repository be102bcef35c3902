// SHA256SUMS parsing: tolerant of the forms sha256sum and BSD tools write; strict about the
// digest itself (exactly 64 hex digits), so a truncated or garbled line never yields a checksum.
#include "base/sha256sums.hpp"

#include <algorithm>
#include <cctype>

#include "common/text.hpp"

namespace binder::base {

namespace {

using common::trim;

std::string_view strip_name(std::string_view name) {
  if (name.starts_with('*'))
    name.remove_prefix(1);
  while (name.starts_with("./"))
    name.remove_prefix(2);
  return name;
}

std::optional<Sha256Entry> parse_line(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.front() == '#') {
    return std::nullopt;
  }
  // BSD: "SHA256 (name) = hex"
  if (line.starts_with("SHA256 (")) {
    auto close = line.rfind(") = ");
    if (close == std::string_view::npos)
      return std::nullopt;
    auto hex = trim(line.substr(close + 4));
    auto name = line.substr(8, close - 8);
    if (!is_sha256_hex(hex) || name.empty())
      return std::nullopt;
    return Sha256Entry{normalize_sha256(hex), std::string(strip_name(name))};
  }
  // GNU: "hex  name" or "hex *name"
  if (line.size() < 66 || !is_sha256_hex(line.substr(0, 64)) || line[64] != ' ') {
    return std::nullopt;
  }
  auto rest = line.substr(65);
  if (rest.starts_with(' ')) {
    rest.remove_prefix(1);
  }
  auto name = strip_name(rest);
  if (name.empty())
    return std::nullopt;
  return Sha256Entry{normalize_sha256(line.substr(0, 64)), std::string(name)};
}

}  // namespace

bool is_sha256_hex(std::string_view text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string normalize_sha256(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<Sha256Entry> parse_sha256sums(std::string_view text) {
  std::vector<Sha256Entry> entries;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (auto entry = parse_line(line)) {
      entries.push_back(std::move(*entry));
    }
  }
  return entries;
}

std::optional<std::string> find_sha256(const std::vector<Sha256Entry>& entries, std::string_view name) {
  // The name as given first: a listed name may itself start with '*' or "./" ("**x" in binary
  // mode lists the file "*x"; found by fuzz_sha256sums).
  for (std::string_view want : {name, strip_name(name)}) {
    for (const auto& e : entries) {
      if (e.name == want) {
        return e.sha256;
      }
    }
  }
  return std::nullopt;
}

Result<std::string> lookup_sha256(std::string_view text, std::string_view name, std::string_view source) {
  auto entries = parse_sha256sums(text);
  if (entries.empty()) {
    return common::fail(common::Errc::checksum, "'{}' holds no sha256 checksum lines", source);
  }
  if (auto hex = find_sha256(entries, name)) {
    return *hex;
  }
  return common::fail(common::Errc::checksum, "'{}' is not listed in '{}' ({} entries)", name, source,
                      entries.size());
}

}  // namespace binder::base
