// A metadata source as a JSON value plus provenance: for every key path ("node.ntp[1]") the file,
// line and column it came from, so validation can point at the real line after merging. YAML is
// converted with YAML 1.2 core-schema typing for plain scalars (null, bool, int, float, else
// string); quoted scalars stay strings. Deep merge: maps merge key by key, anything else (lists,
// scalars) is replaced whole by the later source, provenance included.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace binder::firstboot {

struct SourceDoc {
  std::string origin;  // "/etc/binder-image/member.yaml", "cloud-init user-data (...)"
  nlohmann::json value = nlohmann::json::object();
  std::map<std::string, common::SourceLoc> locs;  // key path -> where it was written

  // Where `path` (or its nearest ancestor) was written; the origin alone if unknown.
  common::SourceLoc where(const std::string& path) const;
};

// Parses YAML text into a document. Errc::invalid_config with a location on syntax errors.
common::Result<SourceDoc> parse_yaml_doc(std::string_view text, std::string origin);
// Parses JSON text (cloud-init's JSON files); no line information.
common::Result<SourceDoc> parse_json_doc(std::string_view text, std::string origin);

// The sub-document at key `key` (paths re-rooted). nullopt if absent or not a mapping... absent
// only; a non-mapping value is returned as is for validation to report.
std::optional<SourceDoc> sub_document(const SourceDoc& doc, const std::string& key);

// Deep-merges `overlay` into `base` (see file comment).
void merge_into(SourceDoc& base, const SourceDoc& overlay);

// "node" + "ntp" -> "node.ntp"; "" + "name" -> "name"
std::string join_path(const std::string& parent, const std::string& key);

}  // namespace binder::firstboot
