// os-release(5) files: KEY=value lines, values optionally quoted. Used to name the distribution
// in the SBOM's package URLs.
#pragma once

#include <string>
#include <string_view>

namespace binder::exporter {

// The value of `key` in os-release `text` (surrounding single or double quotes removed), or ""
// when the key is absent. The first assignment wins; comments and other lines are ignored.
std::string os_release_value(std::string_view text, std::string_view key);

}  // namespace binder::exporter
