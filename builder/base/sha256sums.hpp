// Checksum lists as published next to cloud images and release files (Ubuntu SHA256SUMS, k3s
// sha256sum-amd64.txt): one "<hex>  <name>" (text mode) or "<hex> *<name>" (binary mode) line per
// file, as written by sha256sum; BSD-style "SHA256 (<name>) = <hex>" lines are accepted too.
// Blank lines, comments and lines of other forms (e.g. a PGP armour around a signed list) are
// skipped.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace binder::base {

using common::Result;

struct Sha256Entry {
  std::string sha256;  // 64 lowercase hex digits
  std::string name;    // as listed, without a leading "*" or "./"
};

// Parses every checksum line of `text`; other lines are ignored.
std::vector<Sha256Entry> parse_sha256sums(std::string_view text);

// The checksum listed for `name` (compared with any leading "./" or "*" removed), or nullopt.
std::optional<std::string> find_sha256(const std::vector<Sha256Entry>& entries, std::string_view name);

// Looks `name` up in the list `text` read from `source` (a URL or path, for the message). Errors
// (Errc::checksum) name the file and the source when the name is not listed.
Result<std::string> lookup_sha256(std::string_view text, std::string_view name, std::string_view source);

// True for exactly 64 hex digits (either case).
bool is_sha256_hex(std::string_view text);
// Lower-cases a hex digest.
std::string normalize_sha256(std::string_view text);

}  // namespace binder::base
