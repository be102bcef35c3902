// Small string helpers shared by the line-oriented parsers (SHA256SUMS, chartpress.yaml, HTTP
// headers, SBOM inputs).
#pragma once

#include <string_view>

namespace binder::common {

// `s` without leading and trailing `blanks` (by default spaces, tabs and a CR of CRLF lines).
inline std::string_view trim(std::string_view s, std::string_view blanks = " \t\r") {
  std::size_t b = s.find_first_not_of(blanks);
  if (b == std::string_view::npos) {
    return {};
  }
  return s.substr(b, s.find_last_not_of(blanks) - b + 1);
}

}  // namespace binder::common
