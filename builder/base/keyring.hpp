// OpenPGP public keyrings compiled into the builder (base/keys/README.md has their provenance).
// A `base.keyring` value "builtin:<name>" names one of these instead of a file or URL.
#pragma once

#include <optional>
#include <string_view>

namespace binder::base {

// "builtin:ubuntu-cloudimage": the Ubuntu cloud image signing keyring.
constexpr std::string_view k_builtin_keyring_prefix = "builtin:";
constexpr std::string_view k_ubuntu_keyring_name = "builtin:ubuntu-cloudimage";
// Fingerprint of the key signing Ubuntu's cloud image SHA256SUMS ("UEC Image Automatic Signing Key").
constexpr std::string_view k_ubuntu_cloudimage_fingerprint = "D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81";

// The binary keyring (ubuntu-cloudimage-keyring.gpg, 2444 bytes).
std::string_view ubuntu_cloudimage_keyring();

// The keyring for a "builtin:<name>" value, or nullopt if there is none by that name.
std::optional<std::string_view> builtin_keyring(std::string_view value);

}  // namespace binder::base
