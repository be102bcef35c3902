// See ext4.hpp. The inode-level work is Ext4Fs::Impl (ext4_impl.hpp); the disk file is read and
// written through the recording io_manager (ext4_io.hpp).
#include "image/ext4.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/hash.hpp"
#include "image/ext4_impl.hpp"

namespace binder::image {

using ext4_detail::ext2_message;
using ext4_detail::split_path;

// ---- Ext4Fs::Impl, reading

Result<Ext4Stat> Ext4Fs::Impl::stat_of(ext2_ino_t ino, const std::string& path) const {
  TRY_ASSIGN(ext2_inode_large inode, read_inode(ino, path));
  Ext4Stat st;
  st.mode = inode.i_mode & 07777;
  st.uid = inode_uid(inode);
  st.gid = inode_gid(inode);
  st.size = EXT2_I_SIZE(&inode);
  st.mtime = inode.i_mtime;
  if (LINUX_S_ISREG(inode.i_mode)) {
    st.type = Ext4Stat::Type::file;
  } else if (LINUX_S_ISDIR(inode.i_mode)) {
    st.type = Ext4Stat::Type::dir;
  } else if (LINUX_S_ISLNK(inode.i_mode)) {
    st.type = Ext4Stat::Type::symlink;
    TRY_ASSIGN(st.link_target, symlink_target(ino, inode, path));
  }
  return st;
}

Result<std::vector<std::pair<std::string, ext2_ino_t>>> Ext4Fs::Impl::list_dir(
    ext2_ino_t dir, const std::string& path) const {
  std::vector<std::pair<std::string, ext2_ino_t>> out;
  auto cb = [](ext2_ino_t, int, struct ext2_dir_entry* d, int, int, char*, void* priv) -> int {
    auto* v = static_cast<std::vector<std::pair<std::string, ext2_ino_t>>*>(priv);
    std::string name(d->name, static_cast<std::size_t>(ext2fs_dirent_name_len(d)));
    if (d->inode != 0 && name != "." && name != "..") {
      v->emplace_back(std::move(name), d->inode);
    }
    return 0;
  };
  if (errcode_t e = ext2fs_dir_iterate2(fs, dir, 0, nullptr, cb, &out)) {
    return err(e, "listing", path);
  }
  return out;
}

Result<std::string> Ext4Fs::Impl::symlink_target(ext2_ino_t ino, ext2_inode_large& inode,
                                                 const std::string& path) const {
  auto* small = reinterpret_cast<ext2_inode*>(&inode);
  if (ext2fs_is_fast_symlink(small)) {
    const char* p = reinterpret_cast<const char*>(inode.i_block);
    return std::string(p, strnlen(p, sizeof(inode.i_block)));
  }
  if (inode.i_flags & EXT4_INLINE_DATA_FL) {
    std::string buf(EXT2_I_SIZE(&inode) + 1, '\0');
    size_t got = 0;
    if (errcode_t e = ext2fs_inline_data_get(fs, ino, small, buf.data(), &got)) {
      return err(e, "reading symlink", path);
    }
    buf.resize(std::min<std::size_t>(got, EXT2_I_SIZE(&inode)));
    return buf;
  }
  return read_ino(ino, path, 1u << 16);
}

Result<std::string> Ext4Fs::Impl::read_ino(ext2_ino_t ino, const std::string& path, std::uint64_t max) const {
  ext2_file_t file = nullptr;
  if (errcode_t e = ext2fs_file_open(fs, ino, 0, &file)) {
    return err(e, "opening", path);
  }
  __u64 size = 0;
  ext2fs_file_get_lsize(file, &size);
  if (size > max) {
    ext2fs_file_close(file);
    return fail(Errc::io, "'/{}' is {} bytes, more than the {} expected", path, size, max);
  }
  std::string out(size, '\0');
  std::size_t done = 0;
  while (done < size) {
    unsigned int got = 0;
    errcode_t e =
        ext2fs_file_read(file, out.data() + done,
                         static_cast<unsigned int>(std::min<std::uint64_t>(size - done, 1u << 20)), &got);
    if (e || got == 0) {
      ext2fs_file_close(file);
      return e ? err(e, "reading", path) : fail(Errc::io, "reading '/{}': short read", path);
    }
    done += got;
  }
  ext2fs_file_close(file);
  return out;
}

// ---- Ext4Fs

Ext4Fs::Ext4Fs(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Ext4Fs::Ext4Fs(Ext4Fs&&) noexcept = default;
Ext4Fs& Ext4Fs::operator=(Ext4Fs&&) noexcept = default;
Ext4Fs::~Ext4Fs() = default;

Result<Ext4Fs> Ext4Fs::open(const std::filesystem::path& disk, std::uint64_t offset, bool writable) {
  auto impl = std::make_unique<Impl>();
  impl->where = fmt::format("'{}' at offset {}", disk.string(), offset);
  impl->io.fd = ::open(disk.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (impl->io.fd < 0) {
    return fail(Errc::io, "opening '{}': {}", disk.string(), std::strerror(errno));
  }
  impl->io.offset = offset;
  int flags = EXT2_FLAG_64BITS | (writable ? EXT2_FLAG_RW : 0);
  ext4_io::opening(&impl->io);
  errcode_t e = ext2fs_open2(disk.c_str(), nullptr, flags, 0, 0, ext4_io::manager(), &impl->fs);
  ext4_io::opening(nullptr);
  if (e) {
    impl->fs = nullptr;
    return fail(Errc::precondition, "no ext2/3/4 filesystem libext2fs can open in {}: {}", impl->where,
                ext2_message(e));
  }
  ext2_filsys fs = impl->fs;
  if (ext2fs_has_feature_journal_needs_recovery(fs->super)) {
    return fail(Errc::precondition, "the filesystem in {} has a journal to replay", impl->where);
  }
  if ((fs->super->s_state & EXT2_ERROR_FS) != 0 || (fs->super->s_state & EXT2_VALID_FS) == 0) {
    return fail(Errc::precondition, "the filesystem in {} was not cleanly unmounted or has errors",
                impl->where);
  }
  if (writable) {
    if (errcode_t be = ext2fs_read_bitmaps(fs)) {
      return fail(Errc::io, "reading the bitmaps of the filesystem in {}: {}", impl->where, ext2_message(be));
    }
  }
  return Ext4Fs(std::move(impl));
}

std::string Ext4Fs::label() const {
  const char* p = reinterpret_cast<const char*>(m_impl->fs->super->s_volume_name);
  return std::string(p, strnlen(p, sizeof(m_impl->fs->super->s_volume_name)));
}

Result<void> Ext4Fs::apply(const TarBuilder& tree, std::int64_t time) {
  if ((m_impl->fs->flags & EXT2_FLAG_RW) == 0) {
    return fail(Errc::internal, "Ext4Fs::apply on a read-only filesystem");
  }
  m_impl->fs->now = static_cast<time_t>(time);
  for (const TarEntry* e : tree.entries()) {
    TRY_CTX(m_impl->apply_entry(*e, time), "writing '/{}'", e->path);
  }
  return {};
}

namespace {
std::string relative(const std::string& path) {
  std::string rel = path;
  while (!rel.empty() && rel.front() == '/') {
    rel.erase(0, 1);
  }
  while (!rel.empty() && rel.back() == '/') {
    rel.pop_back();
  }
  return rel;
}
}  // namespace

void Ext4Fs::set_time(std::int64_t time) { m_impl->fs->now = static_cast<time_t>(time); }
std::int64_t Ext4Fs::time() const { return m_impl->fs->now; }

Result<void> Ext4Fs::stamp_times() {
  ext2_filsys fs = m_impl->fs;
  ext2_inode_scan scan = nullptr;
  if (errcode_t e = ext2fs_open_inode_scan(fs, 0, &scan)) {
    return fail(Errc::io, "scanning the inodes of {}: {}", m_impl->where, ext2_message(e));
  }
  auto t = static_cast<__u32>(fs->now);
  Result<void> result;
  for (;;) {
    ext2_ino_t ino = 0;
    ext2_inode_large inode{};
    errcode_t e =
        ext2fs_get_next_inode_full(scan, &ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode));
    if (e == EXT2_ET_BAD_BLOCK_IN_INODE_TABLE) {
      continue;
    }
    if (e) {
      result = fail(Errc::io, "scanning the inodes of {}: {}", m_impl->where, ext2_message(e));
      break;
    }
    if (ino == 0) {
      break;
    }
    if (inode.i_links_count == 0 || inode.i_dtime != 0) {
      continue;
    }
    inode.i_atime = inode.i_ctime = t;
    if (EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE && inode.i_extra_isize >= 24) {
      inode.i_ctime_extra = inode.i_atime_extra = 0;
    }
    if (m_impl->has_crtime(inode)) {
      inode.i_crtime = t;
      inode.i_crtime_extra = 0;
    }
    if (auto w = m_impl->write_inode(ino, inode, fmt::format("<inode {}>", ino)); !w) {
      result = w;
      break;
    }
  }
  ext2fs_close_inode_scan(scan);
  return result;
}

std::uint64_t Ext4Fs::size_bytes() const {
  return ext2fs_blocks_count(m_impl->fs->super) * static_cast<std::uint64_t>(m_impl->fs->blocksize);
}

Result<bool> Ext4Fs::remove(const std::string& path, bool recursive) {
  std::string rel = relative(path);
  auto [dir, name] = split_path(rel);
  if (name.empty()) {
    return fail(Errc::internal, "refusing to remove the root directory");
  }
  ext2_ino_t parent = EXT2_ROOT_INO;
  if (!dir.empty()) {
    errcode_t e = ext2fs_namei_follow(m_impl->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, dir.c_str(), &parent);
    if (e == EXT2_ET_FILE_NOT_FOUND) {
      return false;
    }
    if (e) {
      return m_impl->err(e, "resolving", dir);
    }
  }
  TRY_ASSIGN(ext2_ino_t ino, m_impl->lookup(parent, name, rel));
  if (ino == 0) {
    return false;
  }
  TRY_ASSIGN(ext2_inode_large inode, m_impl->read_inode(ino, rel));
  if (LINUX_S_ISDIR(inode.i_mode) && !recursive) {
    return fail(Errc::internal, "'/{}' is a directory", rel);
  }
  TRY(m_impl->remove_any(parent, name, ino, rel));
  TRY(m_impl->touch_dir(parent, m_impl->fs->now, dir));
  return true;
}

Result<bool> Ext4Fs::truncate(const std::string& path) {
  std::string rel = relative(path);
  ext2_ino_t ino = 0;
  errcode_t e = ext2fs_namei_follow(m_impl->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, rel.c_str(), &ino);
  if (e == EXT2_ET_FILE_NOT_FOUND) {
    return false;
  }
  if (e) {
    return m_impl->err(e, "resolving", rel);
  }
  TRY_ASSIGN(ext2_inode_large inode, m_impl->read_inode(ino, rel));
  if (!LINUX_S_ISREG(inode.i_mode)) {
    return false;
  }
  auto* small = reinterpret_cast<ext2_inode*>(&inode);
  if (ext2fs_inode_has_valid_blocks2(m_impl->fs, small)) {
    if (errcode_t pe = ext2fs_punch(m_impl->fs, ino, small, nullptr, 0, ~0ULL)) {
      return m_impl->err(pe, "truncating", rel);
    }
  }
  if (errcode_t se = ext2fs_inode_size_set(m_impl->fs, small, 0)) {
    return m_impl->err(se, "truncating", rel);
  }
  inode.i_mtime = inode.i_ctime = static_cast<__u32>(m_impl->fs->now);
  if (EXT2_INODE_SIZE(m_impl->fs->super) > EXT2_GOOD_OLD_INODE_SIZE && inode.i_extra_isize >= 24) {
    inode.i_ctime_extra = inode.i_mtime_extra = 0;
  }
  TRY(m_impl->write_inode(ino, inode, rel));
  return true;
}

Result<std::vector<std::string>> Ext4Fs::list(const std::string& path) const {
  std::string rel = relative(path);
  ext2_ino_t ino = EXT2_ROOT_INO;
  if (!rel.empty()) {
    errcode_t e = ext2fs_namei_follow(m_impl->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, rel.c_str(), &ino);
    if (e == EXT2_ET_FILE_NOT_FOUND) {
      return fail(Errc::not_found, "'/{}' does not exist", rel);
    }
    if (e) {
      return m_impl->err(e, "resolving", rel);
    }
  }
  TRY_ASSIGN(ext2_inode_large inode, m_impl->read_inode(ino, rel));
  if (!LINUX_S_ISDIR(inode.i_mode)) {
    return fail(Errc::not_found, "'/{}' is not a directory", rel);
  }
  TRY_ASSIGN(auto entries, m_impl->list_dir(ino, rel));
  std::vector<std::string> names;
  for (auto& [name, child] : entries) {
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::optional<Ext4Stat>> Ext4Fs::stat(const std::string& path) const {
  std::string rel = path;
  while (!rel.empty() && rel.front() == '/') {
    rel.erase(0, 1);
  }
  ext2_ino_t ino = EXT2_ROOT_INO;
  if (!rel.empty()) {
    errcode_t e = ext2fs_namei(m_impl->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, rel.c_str(), &ino);
    if (e == EXT2_ET_FILE_NOT_FOUND) {
      return std::optional<Ext4Stat>{};
    }
    if (e) {
      return m_impl->err(e, "resolving", rel);
    }
  }
  TRY_ASSIGN(Ext4Stat st, m_impl->stat_of(ino, rel));
  return std::optional<Ext4Stat>(std::move(st));
}

Result<std::vector<Ext4Fs::TreeEntry>> Ext4Fs::list_tree() const {
  std::vector<TreeEntry> out;
  std::vector<std::pair<std::string, ext2_ino_t>> todo{{"", EXT2_ROOT_INO}};
  while (!todo.empty()) {
    auto [path, ino] = todo.back();
    todo.pop_back();
    TRY_ASSIGN(Ext4Stat st, m_impl->stat_of(ino, path));
    TreeEntry e{path.empty() ? "/" : path, st, ""};
    if (st.type == Ext4Stat::Type::file) {
      TRY_ASSIGN(std::string data, m_impl->read_ino(ino, path, 1ull << 34));
      e.sha256 = common::hash::sha256_hex(data);
    } else if (st.type == Ext4Stat::Type::dir) {
      TRY_ASSIGN(auto children, m_impl->list_dir(ino, path));
      for (auto& [name, child] : children) {
        todo.emplace_back(path + "/" + name, child);
      }
    }
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  return out;
}

Result<std::string> Ext4Fs::read_file(const std::string& path, std::uint64_t max_bytes) const {
  std::string rel = path;
  while (!rel.empty() && rel.front() == '/') {
    rel.erase(0, 1);
  }
  ext2_ino_t ino = 0;
  errcode_t e = ext2fs_namei_follow(m_impl->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, rel.c_str(), &ino);
  if (e == EXT2_ET_FILE_NOT_FOUND) {
    return fail(Errc::not_found, "'/{}' does not exist in the filesystem of {}", rel, m_impl->where);
  }
  if (e) {
    return m_impl->err(e, "resolving", rel);
  }
  TRY_ASSIGN(ext2_inode_large inode, m_impl->read_inode(ino, rel));
  if (!LINUX_S_ISREG(inode.i_mode)) {
    return fail(Errc::io, "'/{}' is not a regular file in the filesystem of {}", rel, m_impl->where);
  }
  return m_impl->read_ino(ino, rel, max_bytes);
}

Result<void> Ext4Fs::close() {
  if (m_impl->fs == nullptr) {
    return {};
  }
  ext2_filsys fs = m_impl->fs;
  m_impl->fs = nullptr;
  if (errcode_t e = ext2fs_close_free(&fs)) {
    return fail(Errc::io, "closing the filesystem in {}: {}", m_impl->where, ext2_message(e));
  }
  return {};
}

std::vector<ByteRange> Ext4Fs::dirty_ranges() const {
  std::vector<ByteRange> v = m_impl->io.dirty;
  std::sort(v.begin(), v.end(), [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  std::vector<ByteRange> out;
  for (const auto& r : v) {
    if (!out.empty() && r.offset <= out.back().offset + out.back().length) {
      std::uint64_t end = std::max(out.back().offset + out.back().length, r.offset + r.length);
      out.back().length = end - out.back().offset;
    } else {
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace binder::image
