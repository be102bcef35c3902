// Detached OpenPGP signatures over a checksum list (Ubuntu's SHA256SUMS.gpg), checked with the real
// `gpgv` against a given keyring before any checksum in the list is trusted. gpgv runs with a
// throwaway home directory, so nothing from the user's keyrings takes part.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace binder::base {

using common::Result;

struct SignedData {
  std::string_view data;       // the signed bytes (the SHA256SUMS text)
  std::string data_name;       // its URL or path, for messages
  std::string_view signature;  // the detached signature (binary or ASCII-armored)
  std::string signature_name;
  std::string_view keyring;  // OpenPGP public keys: a binary keyring or an armored export
  std::string keyring_name;
  // Optional: the signing key's primary fingerprint must be this one (40 hex digits, any case,
  // spaces ignored), not just any key in the keyring.
  std::string fingerprint;
};

// Ok (the primary fingerprint of the signing key) when `signature` is a good signature of `data`
// by a key in `keyring` (and that key is `fingerprint` if given). Else Errc::checksum, one message
// naming the files and the failed check:
//   "bad signature ..." (data or signature altered), "signed by key X, which is not in keyring K",
//   "signed by X, expected Y", "not an OpenPGP signature ...". Errc::precondition if gpgv is
//   missing.
Result<std::string> verify_detached_signature(const SignedData& in);

}  // namespace binder::base
