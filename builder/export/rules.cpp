// Output checks before a build starts, so a profile that can't produce a valid image fails in a
// second, not after an hour. The provider rules themselves are config/output_rules.cpp's table
// (shared with the profile validator); this file maps an OutputSpec onto it and adds the checks
// that span outputs (distinct, plain file names).
#include <set>

#include "config/output_rules.hpp"
#include "export/export.hpp"

namespace binder::exporter {
namespace {

using common::Errc;
using common::fail;

struct Typed {
  config::Format format;
  config::Compression compression;
};

Result<Typed> typed(const OutputSpec& spec) {
  auto f = config::parse_format(spec.format);
  if (!f) {
    return fail(Errc::invalid_config,
                "output format '{}' is unknown (expected qcow2, raw, vmdk, ova, vhd or gcp-tar)",
                spec.format);
  }
  if (spec.compression.empty()) {
    return Typed{*f, config::default_compression(*f)};
  }
  auto c = config::parse_compression(spec.compression);
  if (!c) {
    return fail(Errc::invalid_config,
                "output compression '{}' is unknown (expected none, zstd, zlib, xz or gzip)",
                spec.compression);
  }
  return Typed{*f, *c};
}

}  // namespace

std::string effective_compression(const OutputSpec& spec) {
  auto t = typed(spec);
  return t ? std::string(config::to_string(t->compression)) : spec.compression;
}

std::string output_file_name(const OutputSpec& spec, const std::string& base_name) {
  std::string stem = spec.name.empty() ? base_name : spec.name;
  auto t = typed(spec);
  return t ? config::output_file_name(t->format, t->compression, stem) : stem + "." + spec.format;
}

Result<void> check_output_rules(const OutputSpec& spec, std::uint64_t disk_size) {
  TRY_ASSIGN(Typed t, typed(spec));
  auto problems = config::check_output(t.format, t.compression, disk_size);
  if (!problems.empty()) {
    return fail(Errc::invalid_config, "{}", problems.front().message);
  }
  if (!spec.name.empty() && (spec.name.find('/') != std::string::npos || spec.name.front() == '.' ||
                             spec.name.find('\n') != std::string::npos)) {
    return fail(Errc::invalid_config, "output name '{}' must be a plain file name (no '/', no leading '.')",
                spec.name);
  }
  return {};
}

Result<void> check_outputs(const std::vector<OutputSpec>& specs, std::uint64_t disk_size,
                           const std::string& base_name) {
  if (base_name.empty() || base_name.find('/') != std::string::npos || base_name.front() == '.') {
    return fail(Errc::invalid_config,
                "output base name '{}' must be a plain file name (no '/', no leading '.')", base_name);
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    TRY_CTX(check_output_rules(specs[i], disk_size), "output {} ({})", i + 1, specs[i].format);
    std::string file = output_file_name(specs[i], base_name);
    if (file == "SHA256SUMS" || !names.insert(file).second) {
      return fail(Errc::invalid_config,
                  "output {} ({}): file name '{}' is used twice (give the outputs distinct names)", i + 1,
                  specs[i].format, file);
    }
  }
  return {};
}

}  // namespace binder::exporter
