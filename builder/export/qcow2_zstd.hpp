// Internal to the export module: a zstd-compressed qcow2 written by the exporter itself, with the
// compression spread over threads and the output bytes independent of their number.
//
// Why not `qemu-img convert -c`: without -W (out-of-order writes, which make the cluster layout
// depend on timing) qemu-img writes one cluster at a time and compresses it inside that write,
// so the conversion uses one core; it was 4.4-5.3 s of an 8 s build. Here every 64 KiB guest
// cluster is read straight from the backing chain's files (offsets from `qemu-img map`),
// compressed by a worker (zstd at its default level, one frame per cluster, as qemu does), and
// written in guest order: the same input gives the same bytes with any thread count.
//
// Reuse: with a cache directory, the exporter keeps the last output and an index (content
// SHA-256 of every cluster -> where its stored bytes are in that output, and their SHA-256). A
// cluster whose content is in the index is copied from the cached output instead of compressed
// (its stored bytes checked first; a mismatch just compresses it). zstd is deterministic, so a
// reused cluster has exactly the bytes compressing would give: the cache changes the speed,
// never the output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "common/result.hpp"

namespace binder::exporter::detail {

using common::Result;

struct Qcow2ZstdOptions {
  unsigned threads = 0;                        // 0: hardware_concurrency (at least 1)
  std::optional<std::filesystem::path> cache;  // directory for the reuse cache (created)
};

struct Qcow2ZstdStats {
  std::uint64_t clusters = 0;      // allocated clusters written
  std::uint64_t compressed = 0;    // of which compressed now
  std::uint64_t reused = 0;        // of which copied from the cache (compressed or not)
  std::uint64_t uncompressed = 0;  // of which stored as is now (zstd didn't shrink them)
};

// Writes `out` (a new file; the caller stages and verifies it); `virtual_size` is top's. With a
// cache, also writes `out` + ".index" for remember_qcow2_zstd. Errc::precondition when the
// chain can't be read directly (a range without a host offset: compressed or encrypted
// clusters, a protocol other than a file): the caller then uses qemu-img convert. Other errors
// are real failures.
Result<Qcow2ZstdStats> write_qcow2_zstd(const std::filesystem::path& top, std::uint64_t virtual_size,
                                        const std::filesystem::path& out, const Qcow2ZstdOptions& options);

// Records `out` (written by write_qcow2_zstd with a cache) as the cache's reference output: a hard
// link (or a copy) of it and its index. Failures are returned; callers may only warn.
Result<void> remember_qcow2_zstd(const std::filesystem::path& out, const std::filesystem::path& cache);

}  // namespace binder::exporter::detail
