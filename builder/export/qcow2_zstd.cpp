// See qcow2_zstd.hpp. The file written (qcow2 version 3, 64 KiB clusters, 16-bit refcounts,
// compression type zstd), in this order, every part at a position that depends only on the input:
//   cluster 0          header (length 112: compression_type at byte 104), no extensions
//   clusters 1..       L1 table
//   then               the guest clusters in guest order: compressed ones packed byte by byte
//                      (a descriptor may cross host clusters, as qemu's own do); one that zstd
//                      can't shrink is stored whole at the next host cluster boundary
//   then               one L2 table per L1 entry with data, in L1 order
//   then               the refcount table and its blocks (covering themselves)
// qemu reads a compressed cluster as the 512-byte sectors from its offset to the end of its
// last sector; the refcount of a host cluster is the number of descriptors whose sectors touch
// it (what `qemu-img check` counts).
#include "export/qcow2_zstd.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/hash.hpp"

namespace binder::exporter::detail {
namespace {

using common::Errc;
using common::fail;
using Path = std::filesystem::path;

constexpr unsigned k_cluster_bits = 16;
constexpr std::uint64_t k_cluster = 1ull << k_cluster_bits;
constexpr std::uint64_t k_l2_entries = k_cluster / 8;
constexpr std::uint64_t k_refcount_entries = k_cluster / 2;  // refcount_order 4
constexpr std::uint64_t k_oflag_copied = 1ull << 63;
constexpr std::uint64_t k_oflag_compressed = 1ull << 62;
constexpr unsigned k_csize_shift = 62 - (k_cluster_bits - 8);
constexpr std::uint64_t k_batch = 512;  // clusters compressed between two in-order writes
constexpr const char* k_index_magic = "binder-image qcow2-zstd index 1\n";

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

void put_be(std::string& buf, std::size_t at, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) {
    buf[at + i] = static_cast<char>(v & 0xff);
  }
}

class Fd {
 public:
  explicit Fd(int fd = -1) : m_fd(fd) {}
  Fd(Fd&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(m_fd, o.m_fd);
    return *this;
  }
  ~Fd() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  int get() const { return m_fd; }

 private:
  int m_fd;
};

Result<void> pread_all(int fd, char* buf, std::size_t n, std::uint64_t off, const Path& what) {
  while (n > 0) {
    ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      return fail(Errc::io, "reading '{}' at {}: {}", what.string(), off,
                  r < 0 ? std::strerror(errno) : "short file");
    }
    buf += r;
    n -= static_cast<std::size_t>(r);
    off += static_cast<std::uint64_t>(r);
  }
  return {};
}

Result<void> pwrite_all(int fd, const char* buf, std::size_t n, std::uint64_t off, const Path& what) {
  while (n > 0) {
    ssize_t r = ::pwrite(fd, buf, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      return fail(Errc::io, "writing '{}': {}", what.string(), r < 0 ? std::strerror(errno) : "no progress");
    }
    buf += r;
    n -= static_cast<std::size_t>(r);
    off += static_cast<std::uint64_t>(r);
  }
  return {};
}

// A range of the guest disk as `qemu-img map` reports it; data ranges carry the file (by chain
// depth) and host offset they are read from.
struct Extent {
  std::uint64_t start = 0, length = 0;
  int depth = 0;
  bool data = false;
  std::uint64_t offset = 0;
};

struct Chain {
  std::vector<Path> files;   // by depth
  std::vector<Extent> data;  // data ranges only, sorted by start
};

Result<Chain> read_chain(const Path& top) {
  Chain chain;
  TRY_ASSIGN(common::exec::Output info,
             common::exec::run_checked(
                 {"qemu-img", "info", "--backing-chain", "--output=json", "-f", "qcow2", top.string()}));
  auto infos = nlohmann::json::parse(info.out, nullptr, false);
  if (!infos.is_array() || infos.empty()) {
    return fail(Errc::external_tool, "qemu-img info --backing-chain '{}': unparsable output", top.string());
  }
  chain.files.push_back(top);
  for (std::size_t i = 0; i + 1 < infos.size(); ++i) {
    std::string next = infos[i].value("full-backing-filename", infos[i].value("backing-filename", ""));
    if (next.empty() || next.find(':') != std::string::npos) {
      return fail(Errc::precondition, "'{}': backing file '{}' is not a plain file", top.string(), next);
    }
    Path p = next;
    if (p.is_relative()) {
      p = chain.files.back().parent_path() / p;
    }
    chain.files.push_back(p);
  }
  TRY_ASSIGN(common::exec::Output map,
             common::exec::run_checked({"qemu-img", "map", "--output=json", "-f", "qcow2", top.string()}));
  auto extents = nlohmann::json::parse(map.out, nullptr, false);
  if (!extents.is_array()) {
    return fail(Errc::external_tool, "qemu-img map '{}': unparsable output", top.string());
  }
  for (const auto& e : extents) {
    if (!e.value("data", false) || e.value("zero", false)) {
      continue;  // unallocated in the whole chain, or known zeros
    }
    Extent x;
    x.start = e.value("start", std::uint64_t{0});
    x.length = e.value("length", std::uint64_t{0});
    x.depth = e.value("depth", 0);
    if (!e.contains("offset") || x.depth < 0 || static_cast<std::size_t>(x.depth) >= chain.files.size()) {
      return fail(Errc::precondition, "'{}': the range at {} has no host offset (compressed source?)",
                  top.string(), x.start);
    }
    x.offset = e["offset"].get<std::uint64_t>();
    x.data = true;
    chain.data.push_back(x);
  }
  std::sort(chain.data.begin(), chain.data.end(), [](auto& a, auto& b) { return a.start < b.start; });
  return chain;
}

// A cluster as written: its stored bytes (compressed, or the whole cluster), or nothing (zero).
struct Stored {
  enum Kind : std::uint8_t { zero = 0, compressed = 1, plain = 2 } kind = zero;
  std::string bytes;
  std::string content_digest;  // raw SHA-256 of the guest cluster (when indexing)
  std::string stored_digest;   // raw SHA-256 of `bytes` (when indexing)
  bool reused = false;
};

// The previous output's index: content digest -> stored bytes in the cached file.
struct IndexEntry {
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  Stored::Kind kind = Stored::zero;
  std::string stored_digest;
};
constexpr std::size_t k_index_record = 32 + 8 + 4 + 1 + 32;

struct ReuseSource {
  Fd fd;
  Path path;
  std::unordered_map<std::string, IndexEntry> entries;
};

// Loads <cache>/last.qcow2 and its index; nothing (not an error) when absent or unreadable.
std::optional<ReuseSource> load_reuse(const Path& cache) {
  auto text = common::fs::read_file_if_exists(cache / "last.index");
  if (!text || !*text) {
    return std::nullopt;
  }
  const std::string& s = **text;
  std::size_t magic = std::strlen(k_index_magic);
  if (s.compare(0, magic, k_index_magic) != 0 || (s.size() - magic) % k_index_record != 0) {
    return std::nullopt;
  }
  ReuseSource r;
  r.path = cache / "last.qcow2";
  r.fd = Fd(::open(r.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (r.fd.get() < 0) {
    return std::nullopt;
  }
  for (std::size_t at = magic; at < s.size(); at += k_index_record) {
    auto u = [&](std::size_t from, int bytes) {
      std::uint64_t v = 0;
      for (int i = 0; i < bytes; ++i) {
        v = (v << 8) | static_cast<unsigned char>(s[from + i]);
      }
      return v;
    };
    IndexEntry e;
    e.offset = u(at + 32, 8);
    e.length = static_cast<std::uint32_t>(u(at + 40, 4));
    e.kind = static_cast<Stored::Kind>(s[at + 44]);
    e.stored_digest = s.substr(at + 45, 32);
    if ((e.kind == Stored::compressed && e.length < k_cluster) ||
        (e.kind == Stored::plain && e.length == k_cluster)) {
      r.entries.emplace(s.substr(at, 32), std::move(e));
    }
  }
  return r;
}

std::string raw_sha256(const void* data, std::size_t n) {
  common::hash::Sha256 h;
  h.update(data, n);
  return h.raw_digest();
}

struct Worker {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::vector<char> in = std::vector<char>(k_cluster);
  std::vector<char> out = std::vector<char>(ZSTD_compressBound(k_cluster));
  Worker() = default;
  Worker(const Worker&) = delete;
  ~Worker() { ZSTD_freeCCtx(cctx); }
};

// Reads, then reuses or compresses guest cluster `c`.
Result<Stored> make_cluster(Worker& w, std::uint64_t c, std::uint64_t virtual_size, const Chain& chain,
                            const std::vector<Fd>& fds, const ReuseSource* reuse, bool indexing) {
  const std::uint64_t begin = c * k_cluster, end = std::min(begin + k_cluster, virtual_size);
  std::memset(w.in.data(), 0, k_cluster);
  auto it = std::upper_bound(chain.data.begin(), chain.data.end(), begin,
                             [](std::uint64_t v, const Extent& e) { return v < e.start; });
  if (it != chain.data.begin()) {
    --it;
  }
  for (; it != chain.data.end() && it->start < end; ++it) {
    std::uint64_t from = std::max(begin, it->start), to = std::min(end, it->start + it->length);
    if (from >= to) {
      continue;
    }
    TRY(pread_all(fds[it->depth].get(), w.in.data() + (from - begin), to - from,
                  it->offset + (from - it->start), chain.files[it->depth]));
  }
  Stored s;
  const char* p = w.in.data();
  if (p[0] == 0 && std::memcmp(p, p + 1, k_cluster - 1) == 0) {
    return s;  // zero: left unallocated, as qemu-img convert -c does
  }
  if (indexing || reuse) {
    s.content_digest = raw_sha256(p, k_cluster);
  }
  if (reuse) {
    auto hit = reuse->entries.find(s.content_digest);
    if (hit != reuse->entries.end()) {
      s.bytes.resize(hit->second.length);
      if (pread_all(reuse->fd.get(), s.bytes.data(), s.bytes.size(), hit->second.offset, reuse->path) &&
          raw_sha256(s.bytes.data(), s.bytes.size()) == hit->second.stored_digest) {
        s.kind = hit->second.kind;
        s.stored_digest = hit->second.stored_digest;
        s.reused = true;
        return s;
      }
    }
  }
  std::size_t n = ZSTD_compressCCtx(w.cctx, w.out.data(), w.out.size(), p, k_cluster, ZSTD_CLEVEL_DEFAULT);
  if (ZSTD_isError(n)) {
    return fail(Errc::internal, "zstd: {}", ZSTD_getErrorName(n));
  }
  if (n < k_cluster - 512) {
    s.kind = Stored::compressed;
    s.bytes.assign(w.out.data(), n);
  } else {
    s.kind = Stored::plain;
    s.bytes.assign(p, k_cluster);
  }
  if (indexing) {
    s.stored_digest = raw_sha256(s.bytes.data(), s.bytes.size());
  }
  return s;
}

}  // namespace

Result<Qcow2ZstdStats> write_qcow2_zstd(const Path& top, std::uint64_t virtual_size, const Path& out,
                                        const Qcow2ZstdOptions& options) {
  TRY_ASSIGN(Chain chain, read_chain(top));
  std::vector<Fd> fds;
  for (const auto& f : chain.files) {
    fds.emplace_back(::open(f.c_str(), O_RDONLY | O_CLOEXEC));
    if (fds.back().get() < 0) {
      return fail(Errc::io, "opening '{}': {}", f.string(), std::strerror(errno));
    }
  }
  // Guest clusters that hold data somewhere in the chain, ascending.
  std::vector<std::uint64_t> todo;
  for (const auto& e : chain.data) {
    for (std::uint64_t c = e.start / k_cluster; c * k_cluster < e.start + e.length; ++c) {
      if (todo.empty() || todo.back() < c) {
        todo.push_back(c);
      }
    }
  }
  std::optional<ReuseSource> reuse;
  const bool indexing = options.cache.has_value();
  if (options.cache) {
    reuse = load_reuse(*options.cache);
  }

  const std::uint64_t guest_clusters = (virtual_size + k_cluster - 1) / k_cluster;
  const std::uint64_t l1_size = (guest_clusters + k_l2_entries - 1) / k_l2_entries;
  const std::uint64_t l1_offset = k_cluster;
  const std::uint64_t data_start = l1_offset + align_up(std::max<std::uint64_t>(l1_size, 1) * 8, k_cluster);
  std::vector<std::uint64_t> l2(l1_size * k_l2_entries, 0);  // guest cluster -> L2 entry
  std::map<std::uint64_t, std::uint32_t> refcounts;          // host cluster -> count (data only)

  Fd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    return fail(Errc::io, "creating '{}': {}", out.string(), std::strerror(errno));
  }
  std::string index = k_index_magic;
  Qcow2ZstdStats stats;
  std::uint64_t pos = data_start;
  std::string pending;  // bytes from `pending_at` not yet written
  std::uint64_t pending_at = pos;
  auto flush = [&]() -> Result<void> {
    TRY(pwrite_all(fd.get(), pending.data(), pending.size(), pending_at, out));
    pending_at += pending.size();
    pending.clear();
    return {};
  };

  unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<Worker> workers(threads);
  std::vector<Result<Stored>> batch;
  for (std::size_t first = 0; first < todo.size(); first += k_batch) {
    std::size_t count = std::min<std::size_t>(k_batch, todo.size() - first);
    batch.assign(count, Stored{});
    std::atomic<std::size_t> next{0};
    auto work = [&](Worker& w) {
      for (std::size_t i; (i = next.fetch_add(1)) < count;) {
        batch[i] =
            make_cluster(w, todo[first + i], virtual_size, chain, fds, reuse ? &*reuse : nullptr, indexing);
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) {
      pool.emplace_back(work, std::ref(workers[t]));
    }
    work(workers[0]);
    for (auto& t : pool) {
      t.join();
    }
    for (std::size_t i = 0; i < count; ++i) {
      if (!batch[i]) {
        return std::unexpected(batch[i].error());
      }
      Stored& s = *batch[i];
      if (s.kind == Stored::zero) {
        continue;
      }
      const std::uint64_t c = todo[first + i];
      if (s.kind == Stored::plain) {
        std::uint64_t aligned = align_up(pos, k_cluster);
        pending.append(aligned - pos, '\0');
        pos = aligned;
        l2[c] = pos | k_oflag_copied;
        refcounts[pos / k_cluster] = 1;
        ++(s.reused ? stats.reused : stats.uncompressed);
      } else {
        std::uint64_t sectors = (pos + s.bytes.size() - 1) / 512 - pos / 512;
        l2[c] = k_oflag_compressed | pos | (sectors << k_csize_shift);
        std::uint64_t last = (pos / 512 + sectors + 1) * 512 - 1;
        for (std::uint64_t h = pos / k_cluster; h <= last / k_cluster; ++h) {
          ++refcounts[h];
        }
        ++(s.reused ? stats.reused : stats.compressed);
      }
      if (indexing) {
        std::string rec(k_index_record, '\0');
        std::memcpy(rec.data(), s.content_digest.data(), 32);
        put_be(rec, 32, pos, 8);
        put_be(rec, 40, s.bytes.size(), 4);
        rec[44] = static_cast<char>(s.kind);
        std::memcpy(rec.data() + 45, s.stored_digest.data(), 32);
        index += rec;
      }
      pending += s.bytes;
      pos += s.bytes.size();
      ++stats.clusters;
    }
    if (pending.size() >= (8u << 20)) {
      TRY(flush());
    }
  }
  // The last compressed cluster is read to the end of its sector: pad to the next cluster.
  pending.append(align_up(pos, k_cluster) - pos, '\0');
  pos = align_up(pos, k_cluster);
  TRY(flush());

  // L2 tables, in L1 order.
  std::string l1(align_up(std::max<std::uint64_t>(l1_size, 1) * 8, k_cluster), '\0');
  std::vector<std::uint64_t> meta_clusters{0};
  for (std::uint64_t o = l1_offset; o < data_start; o += k_cluster) {
    meta_clusters.push_back(o / k_cluster);
  }
  for (std::uint64_t i = 0; i < l1_size; ++i) {
    auto from = l2.begin() + static_cast<std::ptrdiff_t>(i * k_l2_entries);
    if (std::all_of(from, from + k_l2_entries, [](std::uint64_t e) { return e == 0; })) {
      continue;
    }
    std::string table(k_cluster, '\0');
    for (std::uint64_t j = 0; j < k_l2_entries; ++j) {
      put_be(table, j * 8, from[static_cast<std::ptrdiff_t>(j)], 8);
    }
    put_be(l1, i * 8, pos | k_oflag_copied, 8);
    meta_clusters.push_back(pos / k_cluster);
    pending += table;
    pos += k_cluster;
  }
  // Refcount table and blocks at the end, sized to cover themselves.
  const std::uint64_t before = pos / k_cluster;
  std::uint64_t blocks = 1, table_clusters = 1;
  for (;;) {
    std::uint64_t total = before + table_clusters + blocks;
    std::uint64_t b = (total + k_refcount_entries - 1) / k_refcount_entries;
    std::uint64_t t = (b * 8 + k_cluster - 1) / k_cluster;
    if (b == blocks && t == table_clusters) {
      break;
    }
    blocks = b;
    table_clusters = t;
  }
  const std::uint64_t table_offset = pos;
  for (std::uint64_t i = 0; i < table_clusters + blocks; ++i) {
    meta_clusters.push_back(before + i);
  }
  for (std::uint64_t m : meta_clusters) {
    refcounts[m] = 1;
  }
  std::string table(table_clusters * k_cluster, '\0');
  std::string block_bytes(blocks * k_cluster, '\0');
  for (std::uint64_t b = 0; b < blocks; ++b) {
    put_be(table, b * 8, table_offset + (table_clusters + b) * k_cluster, 8);
  }
  for (const auto& [cluster, count] : refcounts) {
    if (count > 0xffff) {
      return fail(Errc::internal, "'{}': host cluster {} has {} references", out.string(), cluster, count);
    }
    put_be(block_bytes, cluster * 2, count, 2);
  }
  pending += table;
  pending += block_bytes;
  TRY(flush());

  // L1 and, last, the header.
  TRY(pwrite_all(fd.get(), l1.data(), l1.size(), l1_offset, out));
  std::string header(k_cluster, '\0');
  header.replace(0, 4, "QFI\xfb");
  put_be(header, 4, 3, 4);                // version
  put_be(header, 20, k_cluster_bits, 4);  // cluster_bits
  put_be(header, 24, virtual_size, 8);    // size
  put_be(header, 36, l1_size, 4);         // l1_size
  put_be(header, 40, l1_offset, 8);       // l1_table_offset
  put_be(header, 48, table_offset, 8);    // refcount_table_offset
  put_be(header, 56, table_clusters, 4);  // refcount_table_clusters
  put_be(header, 72, 1ull << 3, 8);       // incompatible: compression type
  put_be(header, 96, 4, 4);               // refcount_order
  put_be(header, 100, 112, 4);            // header_length
  header[104] = 1;                        // compression_type: zstd
  TRY(pwrite_all(fd.get(), header.data(), header.size(), 0, out));
  if (::fdatasync(fd.get()) != 0) {
    return fail(Errc::io, "syncing '{}': {}", out.string(), std::strerror(errno));
  }
  if (indexing) {
    TRY(common::fs::write_file_atomic(Path(out.string() + ".index"), index, 0644));
  }
  return stats;
}

Result<void> remember_qcow2_zstd(const Path& out, const Path& cache) {
  TRY(common::fs::make_directories(cache));
  Path index = out.string() + ".index";
  Path tmp = cache / fmt::format("last.qcow2.tmp-{}", ::getpid());
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  std::filesystem::create_hard_link(out, tmp, ec);
  if (ec) {  // another filesystem: copy (a reflink where the filesystem can)
    ec.clear();
    std::filesystem::copy_file(out, tmp, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
      return fail(Errc::io, "copying '{}' to '{}': {}", out.string(), tmp.string(), ec.message());
    }
  }
  // Index first: a new index with the old file only fails its digest checks (no reuse), never
  // reuses wrong bytes.
  TRY(common::fs::rename_path(index, cache / "last.index"));
  TRY(common::fs::rename_path(tmp, cache / "last.qcow2"));
  return {};
}

}  // namespace binder::exporter::detail
