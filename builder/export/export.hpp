// Export: turns the finished top layer (a qcow2 that may have a backing chain) into every output a
// profile asks for: qcow2 (OpenStack/OVH), raw[.xz|.zst|.gz] (Hetzner, AWS), VMDK streamOptimized
// and OVA (VMware), fixed VHD (Azure) and the GCP disk.raw tar.gz. Provider rules are checked
// before anything is written (check_output_rules, also called by the pipeline before the build
// starts); every output is verified after writing and before it is published; outputs appear in
// out_dir only complete (staged in a private directory under out_dir, then renamed); SHA256SUMS is
// written last, as the commit marker of the set. Independent outputs run concurrently (jobs).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace binder::exporter {

using common::Result;

// One requested output, as in a profile's `outputs:` list.
//   format:      qcow2 | raw | vmdk | ova | vhd | gcp-tar
//   compression: "" (format default) | none | zstd | zlib | xz | gzip
//                qcow2: none (default), zstd, zlib       (qcow2-internal compression)
//                raw:   none (default), xz, zstd, gzip   (-> .raw, .raw.xz, .raw.zst, .raw.gz)
//                gcp-tar: gzip; "none"/"" also mean gzip (GCP only imports .tar.gz, the
//                         tarball is gzip by definition, like a streamOptimized VMDK)
//                vmdk, ova, vhd: none
//   name:        output file stem (as config::Output::name); "" = base_name (the profile name)
struct OutputSpec {
  std::string format;
  std::string compression;
  std::string name;
};

struct ExportedFile {
  std::filesystem::path path;  // final path in out_dir
  std::string sha256;          // lower-case hex of the published file
  std::uint64_t size = 0;      // bytes of the published file
  std::string format;          // OutputSpec::format
  std::string compression;     // effective compression ("none" if none)
  double seconds = 0;          // wall time spent writing + verifying this output
};

struct ExportOptions {
  // Concurrent output jobs (the machine has 2 cores; compressing outputs overlap well).
  int jobs = 2;
  // Fixed timestamps for tar members and container headers: the build's SOURCE_DATE_EPOCH
  // (common::BuildDate); nullopt: tar mtimes are 0 and VMDK CID / VHD footer are left as qemu
  // wrote them, i.e. not reproducible (see README.md).
  std::optional<std::int64_t> source_date_epoch;
  // zstd qcow2 outputs: written by the exporter (qcow2_zstd.hpp: compressed on
  // `compress_threads` threads, 0 = all cores, same bytes for any count) instead of the
  // single-threaded `qemu-img convert -c`; false: qemu-img (also used when the chain can't be
  // read directly). Both give a valid, reproducible qcow2; not the same bytes as each other.
  bool native_qcow2 = true;
  unsigned compress_threads = 0;
  // A directory the exporter may keep its last zstd qcow2 in, with an index of its clusters, to
  // copy unchanged clusters from instead of compressing them again (the output's bytes are the
  // same with or without it). nullopt: no reuse. The builder passes one inside the layer cache.
  std::optional<std::filesystem::path> cache_dir;
  // OVF virtual hardware for the OVA.
  int ovf_cpus = 2;
  int ovf_memory_mib = 4096;
  std::string ovf_product = "binder-image";
  // Small generated files published with the outputs and listed in SHA256SUMS, e.g. the SBOM
  // ("ovh.spdx.json", its text, format "spdx-json"). Returned after the image outputs.
  struct ExtraFile {
    std::string name;
    std::string content;
    std::string format;
  };
  std::vector<ExtraFile> extra_files;
  // Write <out_dir>/SHA256SUMS (sha256sum format, sorted by file name) after all outputs.
  bool write_sha256sums = true;
  // Called once per output when it is written and verified (not yet published), from a worker
  // thread (must be thread-safe; layers::Progress is). path = its final path. Optional.
  std::function<void(const ExportedFile&)> on_output;
};

// The file name an output gets: (spec.name if set, else base_name) + extension:
// .qcow2 | .raw | .raw.xz | .raw.zst | .raw.gz | .vmdk | .ova | .vhd | .tar.gz
// Precondition: check_output_rules(spec, ...) passed.
std::string output_file_name(const OutputSpec& spec, const std::string& base_name);

// The compression actually used for `spec` ("" resolved to the format's default).
std::string effective_compression(const OutputSpec& spec);

// Checks one output against its format's and provider's rules for a disk of `disk_size` bytes
// (virtual size). On failure: Errc::invalid_config whose message names the rule, e.g.
// "azure: a fixed VHD's virtual size must be a whole MiB (disk is 1000000 bytes)".
Result<void> check_output_rules(const OutputSpec& spec, std::uint64_t disk_size);

// All outputs of a profile: every check_output_rules, plus distinct file names and stems that are
// plain names (no '/', not starting with '.'). `base_name` is used for names not given.
Result<void> check_outputs(const std::vector<OutputSpec>& specs, std::uint64_t disk_size,
                           const std::string& base_name);

// Writes every output to out_dir (created if missing). top_qcow2 may have a backing chain; it is
// only read. On success returns the files in the order of `specs`, each verified (qemu-img
// info/check for images, member names/order/format for tars, footer for VHD, decompressed size for
// compressed raws) and hashed, then SHA256SUMS. On failure nothing new is published except outputs
// that already completed (each whole); the staging directory is removed; SHA256SUMS is not written.
Result<std::vector<ExportedFile>> export_outputs(const std::filesystem::path& top_qcow2,
                                                 const std::vector<OutputSpec>& specs,
                                                 const std::filesystem::path& out_dir,
                                                 const std::string& base_name,
                                                 const ExportOptions& options = {});

}  // namespace binder::exporter
