// "did you mean 'packages'?" suggestions (ninja's SpellcheckString): the closest candidate by edit
// distance, if close enough to be a plausible typo.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace binder::common {

int edit_distance(std::string_view a, std::string_view b);
std::optional<std::string> suggest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace binder::common
