// Provider rules for outputs, checked before a build starts so a profile that can't produce a
// valid image fails in a second, not after an hour. Each rule's message starts with the provider
// or format it comes from, so the user can look it up.
#include <set>

#include "export/export.hpp"

namespace binder::exporter {
namespace {

using common::Errc;
using common::fail;

constexpr std::uint64_t k_mib = 1024ull * 1024;
constexpr std::uint64_t k_gib = 1024 * k_mib;
// Azure's largest managed OS/data disk VHD is 4095 GiB (fixed VHD, footer excluded).
constexpr std::uint64_t k_azure_max = 4095 * k_gib;

bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (v == a) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string effective_compression(const OutputSpec& spec) {
  if (spec.format == "gcp-tar") {
    return "gzip";
  }
  return spec.compression.empty() ? "none" : spec.compression;
}

std::string output_file_name(const OutputSpec& spec, const std::string& base_name) {
  std::string stem = spec.name.empty() ? base_name : spec.name;
  std::string c = effective_compression(spec);
  if (spec.format == "raw") {
    if (c == "xz") {
      return stem + ".raw.xz";
    }
    if (c == "zstd") {
      return stem + ".raw.zst";
    }
    if (c == "gzip") {
      return stem + ".raw.gz";
    }
    return stem + ".raw";
  }
  if (spec.format == "gcp-tar") {
    return stem + ".tar.gz";
  }
  return stem + "." + spec.format;  // qcow2, vmdk, ova, vhd
}

Result<void> check_output_rules(const OutputSpec& spec, std::uint64_t disk_size) {
  const std::string& f = spec.format;
  const std::string c = spec.compression.empty() ? "none" : spec.compression;
  if (!one_of(f, {"qcow2", "raw", "vmdk", "ova", "vhd", "gcp-tar"})) {
    return fail(Errc::invalid_config,
                "output format '{}' is unknown (expected qcow2, raw, vmdk, ova, vhd or gcp-tar)", f);
  }
  if (!one_of(c, {"none", "zstd", "zlib", "xz", "gzip"})) {
    return fail(Errc::invalid_config,
                "output compression '{}' is unknown (expected none, zstd, zlib, xz or gzip)", c);
  }
  if (f == "qcow2" && !one_of(c, {"none", "zstd", "zlib"})) {
    return fail(Errc::invalid_config,
                "qcow2: compression is inside the image and must be none, zstd or zlib, not '{}'", c);
  }
  if (f == "raw" && !one_of(c, {"none", "xz", "zstd", "gzip"})) {
    return fail(Errc::invalid_config,
                "raw: a raw disk is compressed as a whole file with xz, zstd or gzip, not '{}'", c);
  }
  if ((f == "vmdk" || f == "ova") && c != "none") {
    return fail(Errc::invalid_config,
                "vmware: a streamOptimized VMDK is compressed by design; compression must be none, "
                "not '{}'",
                c);
  }
  if (f == "vhd" && c != "none") {
    return fail(Errc::invalid_config,
                "azure: a VHD must be a fixed, uncompressed VHD; compression must be none, not '{}'",
                c);
  }
  if (f == "gcp-tar" && !one_of(c, {"none", "gzip"})) {
    return fail(Errc::invalid_config,
                "gcp: the image must be a gzip-compressed tar (.tar.gz); compression '{}' is not "
                "allowed",
                c);
  }
  if (disk_size == 0) {
    return fail(Errc::invalid_config, "{}: the disk size must be greater than 0", f);
  }
  if (f == "vhd" && disk_size % k_mib != 0) {
    return fail(Errc::invalid_config,
                "azure: a fixed VHD's virtual size must be a whole MiB (disk is {} bytes; "
                "{} MiB would do)",
                disk_size, (disk_size + k_mib - 1) / k_mib);
  }
  if (f == "vhd" && disk_size > k_azure_max) {
    return fail(Errc::invalid_config, "azure: a VHD can be at most 4095 GiB (disk is {} bytes)",
                disk_size);
  }
  if (f == "gcp-tar" && disk_size % k_gib != 0) {
    return fail(Errc::invalid_config,
                "gcp: disk.raw must be a whole GiB (disk is {} bytes; {} GiB would do)", disk_size,
                (disk_size + k_gib - 1) / k_gib);
  }
  if (!spec.name.empty() &&
      (spec.name.find('/') != std::string::npos || spec.name.front() == '.' ||
       spec.name.find('\n') != std::string::npos)) {
    return fail(Errc::invalid_config,
                "output name '{}' must be a plain file name (no '/', no leading '.')", spec.name);
  }
  return {};
}

Result<void> check_outputs(const std::vector<OutputSpec>& specs, std::uint64_t disk_size,
                           const std::string& base_name) {
  if (base_name.empty() || base_name.find('/') != std::string::npos || base_name.front() == '.') {
    return fail(Errc::invalid_config,
                "output base name '{}' must be a plain file name (no '/', no leading '.')",
                base_name);
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    TRY_CTX(check_output_rules(specs[i], disk_size), "output {} ({})", i + 1, specs[i].format);
    std::string file = output_file_name(specs[i], base_name);
    if (file == "SHA256SUMS" || !names.insert(file).second) {
      return fail(Errc::invalid_config,
                  "output {} ({}): file name '{}' is used twice (give the outputs distinct names)",
                  i + 1, specs[i].format, file);
    }
  }
  return {};
}

}  // namespace binder::exporter
