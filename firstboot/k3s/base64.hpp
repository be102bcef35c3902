// Standard base64 (RFC 4648, with padding) for kubeconfig data fields and Secret data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace binder::firstboot {

std::string base64_encode(std::string_view data);
// nullopt on characters outside the alphabet; whitespace is skipped.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace binder::firstboot
