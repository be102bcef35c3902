// See build_date.hpp.
#include "common/build_date.hpp"

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace binder::common {

Result<BuildDate> parse_source_date_epoch(const char* value) {
  if (value == nullptr || *value == '\0') {
    return BuildDate{};
  }
  std::string_view text(value);
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0) {
    return fail(Errc::usage,
                "SOURCE_DATE_EPOCH '{}' is not a number of seconds since 1970 (e.g. '1700000000'); "
                "unset it or fix it",
                text.substr(0, 64));
  }
  return BuildDate{n};
}

Result<BuildDate> build_date_from_env() { return parse_source_date_epoch(std::getenv("SOURCE_DATE_EPOCH")); }

}  // namespace binder::common
