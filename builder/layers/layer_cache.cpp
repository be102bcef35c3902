// See layer_cache.hpp. Order of publish is the whole crash-safety argument: image bytes durable
// and renamed first, transcript next, metadata (the commit marker) last.
#include "layers/layer_cache.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "layers/interrupt.hpp"

namespace binder::layers {
namespace {

using common::Errc;
using common::fail;
namespace fs = common::fs;
using nlohmann::json;

Result<void> fsync_file(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(Errc::io, "opening '{}': {}", path.string(), std::strerror(errno));
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return fail(Errc::io, "syncing '{}': {}", path.string(), std::strerror(err));
  }
  return {};
}

std::optional<LayerMeta> parse_meta(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != k_layer_format) {
    return std::nullopt;
  }
  LayerMeta m;
  m.digest = j.value("digest", "");
  m.kind = j.value("kind", "");
  m.parent = j.value("parent", "");
  m.abi = j.value("abi", 0);
  m.builder_version = j.value("builder_version", "");
  m.created = j.value("created", std::int64_t{0});
  m.size = j.value("size", std::uint64_t{0});
  return m;
}

bool pid_alive(const std::string& name) {
  auto pos = name.rfind(".partial-");
  if (pos == std::string::npos) {
    return false;
  }
  int pid = std::atoi(name.c_str() + pos + 9);
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

}  // namespace

CacheLock::~CacheLock() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

Result<CacheLock> CacheLock::acquire(const stdfs::path& layers_dir, Mode mode) {
  TRY(fs::make_directories(layers_dir));
  stdfs::path p = layers_dir / ".lock";
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail(Errc::io, "opening '{}': {}", p.string(), std::strerror(errno));
  }
  int op = mode == Mode::shared ? LOCK_SH : LOCK_EX | LOCK_NB;
  if (::flock(fd, op) != 0) {
    int err = errno;
    ::close(fd);
    return fail(err == EWOULDBLOCK ? Errc::temporary : Errc::io, "locking '{}': {}", p.string(),
                err == EWOULDBLOCK ? "a build is using the cache" : std::strerror(err));
  }
  return CacheLock(fd);
}

PendingLayer::PendingLayer(stdfs::path partial, stdfs::path final_path)
    : m_partial(std::move(partial)), m_final(std::move(final_path)) {
  m_slot = register_partial(m_partial);
}

PendingLayer::PendingLayer(PendingLayer&& o) noexcept
    : m_partial(std::move(o.m_partial)), m_final(std::move(o.m_final)), m_slot(o.m_slot) {
  o.m_partial.clear();
  o.m_slot = -1;
}

PendingLayer::~PendingLayer() {
  if (!m_partial.empty()) {
    std::error_code ec;
    stdfs::remove(m_partial, ec);
  }
  unregister_partial(m_slot);
}

LayerCache::LayerCache(stdfs::path root) : m_dir(std::move(root) / "layers") {}

LayerCache LayerCache::from_env() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  stdfs::path base;
  if (xdg != nullptr && xdg[0] == '/') {
    base = xdg;
  } else {
    const char* home = std::getenv("HOME");
    base = stdfs::path(home != nullptr ? home : "/tmp") / ".cache";
  }
  return LayerCache(base / "binder-image");
}

stdfs::path LayerCache::image_path(const std::string& d) const { return m_dir / (d + ".qcow2"); }
stdfs::path LayerCache::inputs_path(const std::string& d) const { return m_dir / (d + ".inputs"); }
stdfs::path LayerCache::meta_path(const std::string& d) const { return m_dir / (d + ".json"); }
stdfs::path LayerCache::sidecar_path(const std::string& d, const std::string& name) const {
  return m_dir / (d + "." + name);
}

std::optional<LayerMeta> LayerCache::lookup(const std::string& digest) const {
  auto text = fs::read_file_if_exists(meta_path(digest));
  if (!text || !*text) {
    return std::nullopt;
  }
  auto meta = parse_meta(**text);
  std::error_code ec;
  if (!meta || meta->digest != digest || !stdfs::is_regular_file(image_path(digest), ec)) {
    return std::nullopt;
  }
  return meta;
}

std::vector<LayerMeta> LayerCache::list() const {
  std::vector<LayerMeta> out;
  std::error_code ec;
  for (stdfs::directory_iterator it(m_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const stdfs::path& p = it->path();
    if (p.extension() == ".json") {
      if (auto m = lookup(p.stem().string())) {
        out.push_back(*m);
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const LayerMeta& a, const LayerMeta& b) {
    return a.created != b.created ? a.created > b.created : a.digest < b.digest;
  });
  return out;
}

Result<std::string> LayerCache::transcript(const std::string& digest) const {
  return fs::read_file(inputs_path(digest));
}

Result<PendingLayer> LayerCache::begin(const std::string& digest) const {
  TRY_CTX(fs::make_directories(m_dir), "creating the layer cache");
  stdfs::path partial = m_dir / fmt::format("{}.qcow2.partial-{}", digest, ::getpid());
  std::error_code ec;
  stdfs::remove(partial, ec);
  return PendingLayer(partial, image_path(digest));
}

Result<LayerMeta> LayerCache::publish(PendingLayer& pending, LayerMeta meta,
                                      const std::string& transcript_text,
                                      const std::map<std::string, std::string>& sidecars) const {
  // Data first, metadata last: the .json is the commit marker.
  TRY(fsync_file(pending.path()));
  TRY(fs::fault_point("publishing layer image"));
  TRY(fs::rename_path(pending.path(), pending.final_path()));
  pending.release();
  TRY(fs::write_file_atomic(inputs_path(meta.digest), transcript_text, 0644));
  for (const auto& [name, content] : sidecars) {
    if (name.empty() || name == "json" || name == "qcow2" || name == "inputs" ||
        name.find_first_of("/.") != std::string::npos) {
      return fail(Errc::internal, "bad layer sidecar name '{}'", name);
    }
    TRY(fs::write_file_atomic(sidecar_path(meta.digest, name), content, 0644));
  }
  TRY_ASSIGN(meta.size, fs::size_of(image_path(meta.digest)));
  if (meta.created == 0) {
    meta.created = static_cast<std::int64_t>(std::time(nullptr));
  }
  json j{{"format", k_layer_format}, {"digest", meta.digest}, {"kind", meta.kind},
         {"parent", meta.parent},    {"abi", meta.abi},       {"builder_version", meta.builder_version},
         {"created", meta.created},  {"size", meta.size}};
  TRY(fs::write_file_atomic(meta_path(meta.digest), j.dump(2) + "\n", 0644));
  return meta;
}

Result<void> LayerCache::record_build(const std::string& profile,
                                      const std::vector<std::string>& layers) const {
  json j{{"time", static_cast<std::int64_t>(std::time(nullptr))}, {"profile", profile}, {"layers", layers}};
  return fs::append_file_synced(m_dir / "builds.jsonl", j.dump() + "\n", 0644);
}

Result<LayerCache::GcReport> LayerCache::gc(const GcPolicy& policy) const {
  TRY_ASSIGN(CacheLock lock, CacheLock::acquire(m_dir, CacheLock::Mode::exclusive));
  std::vector<LayerMeta> all = list();
  std::map<std::string, LayerMeta> by_digest;
  for (const auto& m : all) {
    by_digest[m.digest] = m;
  }
  std::set<std::string> keep;
  auto keep_chain = [&](std::string d) {
    while (!d.empty() && keep.insert(d).second) {
      auto it = by_digest.find(d);
      d = it != by_digest.end() ? it->second.parent : "";
    }
  };
  // Roots: the layers of the last keep_builds builds.
  auto records = fs::read_file_if_exists(m_dir / "builds.jsonl");
  if (records && *records) {
    std::vector<std::string> lines;
    std::string line;
    for (char c : **records) {
      if (c == '\n') {
        lines.push_back(std::move(line));
        line.clear();
      } else {
        line += c;
      }
    }
    int taken = 0;
    for (auto it = lines.rbegin(); it != lines.rend() && taken < policy.keep_builds; ++it) {
      json j = json::parse(*it, nullptr, false);
      if (j.is_discarded() || !j.contains("layers")) {
        continue;  // a torn last record
      }
      ++taken;
      for (const auto& d : j["layers"]) {
        keep_chain(d.get<std::string>());
      }
    }
  }
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  for (const auto& m : all) {
    if (now - m.created < policy.keep_younger.count()) {
      keep_chain(m.digest);
    }
  }
  GcReport report;
  std::error_code ec;
  for (stdfs::directory_iterator it(m_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with(".") || name == "builds.jsonl") {
      continue;
    }
    std::string digest = name.substr(0, name.find('.'));
    bool partial = name.find(".partial-") != std::string::npos;
    if ((partial && pid_alive(name)) || (!partial && keep.contains(digest))) {
      continue;
    }
    std::error_code size_ec, rm_ec;
    auto size = stdfs::file_size(it->path(), size_ec);
    if (stdfs::remove_all(it->path(), rm_ec) > 0) {
      report.freed += size_ec ? 0 : size;
      if (name.ends_with(".json")) {
        report.removed.push_back(digest);
      }
    }
  }
  return report;
}

Result<LayerCache::GcReport> LayerCache::clean() const {
  std::error_code ec;
  if (!stdfs::exists(m_dir, ec)) {
    return GcReport{};
  }
  TRY_ASSIGN(CacheLock lock, CacheLock::acquire(m_dir, CacheLock::Mode::exclusive));
  GcReport report;
  for (stdfs::directory_iterator it(m_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name == ".lock") {
      continue;
    }
    std::error_code e2, rm_ec;
    auto size = stdfs::file_size(it->path(), e2);
    if (name.ends_with(".json")) {
      report.removed.push_back(name.substr(0, name.find('.')));
    }
    if (stdfs::remove_all(it->path(), rm_ec) > 0) {
      report.freed += e2 ? 0 : size;
    }
  }
  return report;
}

}  // namespace binder::layers
