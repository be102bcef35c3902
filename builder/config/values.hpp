// Pure scalar parsers and resolvers shared by the settings table: sizes, numbers, booleans,
// ${VAR} expansion, path resolution, hex checksums. Each returns the value or a message fit to
// follow "error: " (no location: the caller knows it).
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

namespace binder::config {

template <typename T>
using Parsed = std::expected<T, std::string>;

// "20G" -> 21474836480. Digits with an optional K, M, G or T suffix (powers of 1024; "GiB" and
// "G" are the same), or plain bytes.
Parsed<std::uint64_t> parse_size(std::string_view text);
// "20G" for whole GiB, "512M", ... else plain bytes; the inverse of parse_size for messages.
std::string format_size(std::uint64_t bytes);

Parsed<bool> parse_bool(std::string_view text);         // true/false (any case), yes/no
Parsed<std::int64_t> parse_int(std::string_view text);  // decimal, optional sign
Parsed<double> parse_number(std::string_view text);     // decimal

// Expands ${NAME} from the environment. An unset variable is an error naming it; "$$" is "$".
Parsed<std::string> expand_env(std::string_view text);

// An absolute, lexically normal path: `value` as is when absolute, else relative to `base_dir`
// (itself made absolute against the current directory).
std::filesystem::path resolve_path(const std::filesystem::path& base_dir, std::string_view value);

// 64 hex digits, returned lowercase.
Parsed<std::string> parse_sha256(std::string_view text);

}  // namespace binder::config
