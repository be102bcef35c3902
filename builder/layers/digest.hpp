// Layer digests: the SHA-256 of an explicit transcript of everything a layer is made from, and
// the explanation of a cache miss as the difference between two transcripts.
//
// Transcript format layer-v1 (fields in this order, each "name=<len>:<value>\n", hash.hpp):
//   format   "layer-v1"
//   abi      "<k_layer_abi>.<step version>": k_layer_abi is bumped when the layer machinery
//            changes (all layers), a step's version() when that step's behaviour changes
//   kind     "base" | "system" | "final"
//   parent   the parent layer's digest ("" for base)
//   settings canonical_settings(profile, kind): sorted "key=value" lines
//   <step fields>  e.g. "input:k3s-binary" = sha256, "file:<path>" = "<type> <mode> <uid>:<gid>
//            sha256=<hex>" or "symlink -> <target>", one per entry of the tar the layer uploads
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/hash.hpp"
#include "common/result.hpp"
#include "image/archive.hpp"

namespace binder::layers {

using common::Result;

inline constexpr int k_layer_abi = 1;

// A transcript with the format, abi, kind, parent and settings fields filled in.
common::hash::Transcript begin_transcript(std::string_view kind, std::string_view parent,
                                          std::string_view canonical_settings, int step_version = 1);

// Host file sha256s already known (verified downloads), so large files are not hashed twice.
using KnownHashes = std::map<std::filesystem::path, std::string>;

// Adds one "file:<path>" field per tar entry (content hash, type, mode, owner).
Result<void> add_tar_entries(common::hash::Transcript& t, const image::TarBuilder& tar,
                             const KnownHashes& known = {});

// Splits transcript text back into (name, value) fields. Malformed text ends the list.
std::vector<std::pair<std::string, std::string>> parse_transcript(std::string_view text);

// Why `now` differs from `before`, one short human line per difference, e.g.
//   "parent layer changed", "setting 'k3s.version': 'v1' -> 'v2'", "file 'etc/motd' changed",
//   "file 'etc/new' added", "layer ABI changed (1 -> 2)". Empty if equal. At most `max` lines
// (a last line says how many more).
std::vector<std::string> explain_difference(std::string_view before, std::string_view now,
                                            std::size_t max = 8);

}  // namespace binder::layers
