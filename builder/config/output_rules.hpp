// The output formats' provider rules, in one table: which compressions each format carries (the
// first is its default), the disk size granularity and cap the provider imposes, and the file name
// each output gets. The profile validator (with the setting's file:line), the settings reference
// and the exporter all read this table, so they cannot disagree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/profile.hpp"

namespace binder::config {

struct FormatRule {
  Format format;
  std::string_view provider;              // message prefix: "azure", "gcp", "vmware", ...
  std::string_view clouds;                // who takes it: "Azure"
  std::vector<Compression> compressions;  // allowed; the first is the default
  std::string_view compression_rule;      // why only those
  std::uint64_t size_unit = 1;            // the disk size must be a multiple of this
  std::string_view size_rule;             // "a fixed VHD's virtual size must be a whole MiB"
  std::uint64_t max_size = 0;             // 0 = no cap
  std::string_view max_rule;              // "a VHD can be at most 4095 GiB"
};

// Every format, in the enum's order.
const std::vector<FormatRule>& format_rules();
const FormatRule& rule_for(Format f);

std::optional<Format> parse_format(std::string_view name);            // "gcp-tar" -> gcp_tar
std::optional<Compression> parse_compression(std::string_view name);  // "zstd" -> zstd
Compression default_compression(Format f);

// The file name an output gets: stem + .qcow2 | .raw | .raw.xz | .raw.zst | .raw.gz | .vmdk |
// .ova | .vhd | .tar.gz. Precondition: check_output found nothing.
std::string output_file_name(Format f, Compression c, std::string_view stem);

// What is wrong with one output for a disk of `disk_size` bytes: each problem says which value to
// change (the compression or the disk size) and the rule, "<provider>: <rule> (...)".
struct OutputProblem {
  enum class Field { compression, disk_size };
  Field field;
  std::string message;
};
std::vector<OutputProblem> check_output(Format f, Compression c, std::uint64_t disk_size);

// The rules as one paragraph for the settings reference (`outputs`).
std::string_view output_rules_help();

}  // namespace binder::config
