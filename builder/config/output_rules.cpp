// The output rules table (see output_rules.hpp).
#include "config/output_rules.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace binder::config {
namespace {

constexpr std::uint64_t k_mib = std::uint64_t{1} << 20;
constexpr std::uint64_t k_gib = std::uint64_t{1} << 30;

using C = Compression;

}  // namespace

const std::vector<FormatRule>& format_rules() {
  static const std::vector<FormatRule> k_rules = {
      {Format::qcow2,
       "qcow2",
       "OpenStack, OVH",
       {C::none, C::zstd, C::zlib},
       "compression is inside the image (qcow2 clusters)",
       1,
       "",
       0,
       ""},
      {Format::raw,
       "raw",
       "Hetzner, AWS",
       {C::none, C::xz, C::zstd, C::gzip},
       "a raw disk is compressed as a whole file",
       1,
       "",
       0,
       ""},
      {Format::vmdk,
       "vmware",
       "VMware",
       {C::none},
       "a streamOptimized VMDK is compressed by design",
       1,
       "",
       0,
       ""},
      {Format::ova,
       "vmware",
       "VMware",
       {C::none},
       "an OVA holds a streamOptimized VMDK, compressed by design",
       1,
       "",
       0,
       ""},
      {Format::vhd,
       "azure",
       "Azure",
       {C::none},
       "a VHD must be a fixed, uncompressed VHD",
       k_mib,
       "a fixed VHD's virtual size must be a whole MiB",
       4095 * k_gib,
       "a VHD can be at most 4095 GiB (Azure's largest managed disk)"},
      {Format::gcp_tar,
       "gcp",
       "GCP",
       {C::gzip},
       "the image must be a gzip-compressed tar (.tar.gz) holding disk.raw",
       k_gib,
       "disk.raw must be a whole GiB",
       0,
       ""},
  };
  return k_rules;
}

const FormatRule& rule_for(Format f) { return format_rules().at(static_cast<std::size_t>(f)); }

std::optional<Format> parse_format(std::string_view name) {
  for (const FormatRule& r : format_rules()) {
    if (to_string(r.format) == name)
      return r.format;
  }
  return std::nullopt;
}

std::optional<Compression> parse_compression(std::string_view name) {
  for (C c : {C::none, C::zstd, C::zlib, C::xz, C::gzip}) {
    if (to_string(c) == name)
      return c;
  }
  return std::nullopt;
}

Compression default_compression(Format f) { return rule_for(f).compressions.front(); }

std::string output_file_name(Format f, Compression c, std::string_view stem) {
  switch (f) {
    case Format::raw:
      return fmt::format("{}.raw{}", stem,
                         c == C::xz     ? ".xz"
                         : c == C::zstd ? ".zst"
                         : c == C::gzip ? ".gz"
                                        : "");
    case Format::gcp_tar:
      return fmt::format("{}.tar.gz", stem);
    default:
      return fmt::format("{}.{}", stem, to_string(f));  // qcow2, vmdk, ova, vhd
  }
}

std::vector<OutputProblem> check_output(Format f, Compression c, std::uint64_t disk_size) {
  const FormatRule& r = rule_for(f);
  std::vector<OutputProblem> out;
  if (std::find(r.compressions.begin(), r.compressions.end(), c) == r.compressions.end()) {
    std::vector<std::string_view> names;
    for (C a : r.compressions)
      names.push_back(to_string(a));
    out.push_back({OutputProblem::Field::compression,
                   fmt::format("{}: {}; compression must be {}, not '{}'", r.provider, r.compression_rule,
                               fmt::join(names, " or "), to_string(c))});
  }
  if (disk_size == 0) {
    out.push_back({OutputProblem::Field::disk_size,
                   fmt::format("{}: the disk size must be greater than 0", to_string(f))});
  } else if (disk_size % r.size_unit != 0) {
    const bool gib = r.size_unit == k_gib;
    out.push_back({OutputProblem::Field::disk_size,
                   fmt::format("{}: {} (disk is {} bytes; {} {} would do)", r.provider, r.size_rule,
                               disk_size, (disk_size + r.size_unit - 1) / r.size_unit, gib ? "GiB" : "MiB")});
  }
  if (r.max_size != 0 && disk_size > r.max_size) {
    out.push_back({OutputProblem::Field::disk_size,
                   fmt::format("{}: {} (disk is {} bytes)", r.provider, r.max_rule, disk_size)});
  }
  return out;
}

std::string_view output_rules_help() {
  static const std::string k_help = [] {
    std::string s =
        "The images to write, each `{format, compression, name}`. Provider rules are checked "
        "before the build:";
    for (const FormatRule& r : format_rules()) {
      std::vector<std::string_view> names;
      for (C c : r.compressions)
        names.push_back(to_string(c));
      s += fmt::format(" {} ({}) {}", to_string(r.format), r.clouds, fmt::join(names, "|"));
      if (!r.size_rule.empty())
        s += fmt::format(", {}", r.size_rule);
      if (!r.max_rule.empty())
        s += fmt::format(", {}", r.max_rule);
      s += ";";
    }
    s.back() = '.';
    s += " The first compression listed is the default.";
    return s;
  }();
  return k_help;
}

}  // namespace binder::config
