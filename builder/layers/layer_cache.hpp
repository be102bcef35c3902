// The layer cache: immutable qcow2 layers named by the digest of their input transcript.
//
// On-disk format v1, under <root>/layers/ (root = ${XDG_CACHE_HOME:-~/.cache}/binder-image):
//   <digest>.qcow2             the layer: a qcow2 overlay whose backing file is the parent layer,
//                              stored as a relative name ("<parent>.qcow2") with explicit backing
//                              format qcow2; a root layer (base) has no backing file
//   <digest>.inputs            the transcript whose SHA-256 is <digest> (common/hash Transcript)
//   <digest>.<name>            sidecars a step made with the layer (LayerStep::sidecars(), e.g.
//                              "dpkg-status" of the final layer for the SBOM), written before
//                              the commit marker so a cache hit has them without a launch
//   <digest>.json              {"format":"binder-layer-v1","digest","kind","parent","abi",
//                              "builder_version","created","size"}: THE COMMIT MARKER, written
//                              last (atomically); an entry without it does not exist
//   <digest>.qcow2.partial-<pid>   a layer being built (crash leftovers; `cache clean` removes)
//   builds.jsonl               one line per finished build: {"time","profile","layers":[...]},
//                              the roots `cache gc` keeps
//   .lock                      flock: held shared by builds, exclusive by gc/clean
// A committed layer is never written again: children depend on its bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace binder::layers {

using common::Result;
namespace stdfs = std::filesystem;

inline constexpr const char* k_layer_format = "binder-layer-v1";

struct LayerMeta {
  std::string digest;
  std::string kind;
  std::string parent;  // digest, "" for a root layer
  int abi = 0;
  std::string builder_version;
  std::int64_t created = 0;  // unix seconds
  std::uint64_t size = 0;    // bytes of the .qcow2 file
};

// A layer being built: owns <digest>.qcow2.partial-<pid> and removes it unless published. The
// path is also registered with the interrupt handler (layers/interrupt.hpp) so Ctrl-C removes it.
class PendingLayer {
 public:
  PendingLayer(stdfs::path partial, stdfs::path final_path);
  PendingLayer(PendingLayer&&) noexcept;
  PendingLayer& operator=(PendingLayer&&) = delete;
  ~PendingLayer();
  const stdfs::path& path() const { return m_partial; }
  const stdfs::path& final_path() const { return m_final; }
  void release() { m_partial.clear(); }

 private:
  stdfs::path m_partial;
  stdfs::path m_final;
  int m_slot = -1;
};

// flock on <cache>/layers/.lock: builds hold it shared, gc/clean exclusive (fails fast with
// Errc::temporary naming the lock when a build is running).
class CacheLock {
 public:
  enum class Mode { shared, exclusive };
  static Result<CacheLock> acquire(const stdfs::path& layers_dir, Mode mode);
  CacheLock(CacheLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
  CacheLock& operator=(CacheLock&&) = delete;
  ~CacheLock();

 private:
  explicit CacheLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

class LayerCache {
 public:
  explicit LayerCache(stdfs::path root);
  // ${XDG_CACHE_HOME:-$HOME/.cache}/binder-image
  static LayerCache from_env();

  const stdfs::path& dir() const { return m_dir; }
  stdfs::path image_path(const std::string& digest) const;
  stdfs::path inputs_path(const std::string& digest) const;
  stdfs::path meta_path(const std::string& digest) const;
  stdfs::path sidecar_path(const std::string& digest, const std::string& name) const;

  // The committed entry for `digest` (meta present and image present), or nullopt.
  std::optional<LayerMeta> lookup(const std::string& digest) const;
  // Every committed entry, newest first.
  std::vector<LayerMeta> list() const;
  // The saved transcript text of a committed entry.
  Result<std::string> transcript(const std::string& digest) const;

  // Starts building `digest`: creates the cache directory and returns the partial path to build
  // into. Errc::io if the directory can't be created.
  Result<PendingLayer> begin(const std::string& digest) const;
  // Publishes a built layer: fsync image, rename onto <digest>.qcow2, write <digest>.inputs, then
  // the sidecars, then <digest>.json (commit marker). On failure no .json exists (the entry is
  // absent).
  Result<LayerMeta> publish(PendingLayer& pending, LayerMeta meta, const std::string& transcript_text,
                            const std::map<std::string, std::string>& sidecars = {}) const;

  // Appends a build record (the layers of one finished build, root first).
  Result<void> record_build(const std::string& profile, const std::vector<std::string>& layers) const;

  struct GcPolicy {
    int keep_builds = 3;                               // layers of the last N builds
    std::chrono::seconds keep_younger{7 * 24 * 3600};  // and any layer younger than this
  };
  struct GcReport {
    std::vector<std::string> removed;  // digests
    std::uint64_t freed = 0;
  };
  // Removes committed layers that are neither reachable (through parents) from the last
  // keep_builds builds nor younger than keep_younger, plus orphan and partial files of dead
  // processes. Never removes a parent of a kept layer.
  Result<GcReport> gc(const GcPolicy& policy) const;
  // Removes every layer, partial file and build record.
  Result<GcReport> clean() const;

 private:
  stdfs::path m_dir;
};

}  // namespace binder::layers
