// See ext4.hpp. The writes follow e2fsprogs' own populate code (misc/create_inode.c, used by
// `mke2fs -d`) and debugfs' file removal (kill_file_by_inode), on a private io_manager that
// reads and writes the disk file with pread/pwrite at an offset and records what it wrote.
#include "image/ext4.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/fs.hpp"
#include "common/hash.hpp"

extern "C" {
#include <et/com_err.h>
}
#include <ext2fs/ext2fs.h>

namespace binder::image {

using common::Errc;
using common::fail;

namespace {

// ---------------------------------------------------------------------------------------------
// The recording io_manager.

struct IoState {
  int fd = -1;
  std::uint64_t offset = 0;
  std::vector<ByteRange> dirty;
  struct struct_io_stats stats {};
};

thread_local IoState* t_opening = nullptr;

IoState* state_of(io_channel ch) { return static_cast<IoState*>(ch->private_data); }

errcode_t rec_open(const char* name, int /*flags*/, io_channel* channel);

errcode_t rec_close(io_channel ch) {
  if (--ch->refcount > 0) {
    return 0;
  }
  std::free(ch->name);
  std::free(ch);
  return 0;
}

errcode_t rec_set_blksize(io_channel ch, int blksize) {
  ch->block_size = blksize;
  return 0;
}

std::size_t io_size(io_channel ch, int count) {
  return count < 0 ? static_cast<std::size_t>(-static_cast<long long>(count))
                   : static_cast<std::size_t>(count) * static_cast<std::size_t>(ch->block_size);
}

errcode_t read_at(IoState* s, std::uint64_t pos, std::size_t size, void* data) {
  auto* p = static_cast<char*>(data);
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(s->fd, p + done, size - done, static_cast<off_t>(s->offset + pos + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    if (n == 0) {  // past the end of a sparse file: zeros
      std::memset(p + done, 0, size - done);
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  s->stats.bytes_read += size;
  return 0;
}

errcode_t write_at(IoState* s, std::uint64_t pos, std::size_t size, const void* data) {
  const auto* p = static_cast<const char*>(data);
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(s->fd, p + done, size - done, static_cast<off_t>(s->offset + pos + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    done += static_cast<std::size_t>(n);
  }
  s->dirty.push_back(ByteRange{s->offset + pos, size});
  s->stats.bytes_written += size;
  return 0;
}

errcode_t rec_read64(io_channel ch, unsigned long long block, int count, void* data) {
  return read_at(state_of(ch), block * static_cast<std::uint64_t>(ch->block_size), io_size(ch, count), data);
}
errcode_t rec_write64(io_channel ch, unsigned long long block, int count, const void* data) {
  return write_at(state_of(ch), block * static_cast<std::uint64_t>(ch->block_size), io_size(ch, count), data);
}
errcode_t rec_read(io_channel ch, unsigned long block, int count, void* data) {
  return rec_read64(ch, block, count, data);
}
errcode_t rec_write(io_channel ch, unsigned long block, int count, const void* data) {
  return rec_write64(ch, block, count, data);
}
errcode_t rec_write_byte(io_channel ch, unsigned long offset, int count, const void* data) {
  return write_at(state_of(ch), offset, static_cast<std::size_t>(count), data);
}
errcode_t rec_flush(io_channel /*ch*/) { return 0; }  // scratch file: the caller copies it out
errcode_t rec_set_option(io_channel /*ch*/, const char* /*option*/, const char* /*arg*/) {
  return EXT2_ET_INVALID_ARGUMENT;
}
errcode_t rec_get_stats(io_channel ch, io_stats* stats) {
  if (stats != nullptr) {
    *stats = &state_of(ch)->stats;
  }
  return 0;
}

struct struct_io_manager g_manager = [] {
  struct struct_io_manager m {};
  m.magic = EXT2_ET_MAGIC_IO_MANAGER;
  m.name = "binder recording I/O manager";
  m.open = rec_open;
  m.close = rec_close;
  m.set_blksize = rec_set_blksize;
  m.read_blk = rec_read;
  m.write_blk = rec_write;
  m.flush = rec_flush;
  m.write_byte = rec_write_byte;
  m.set_option = rec_set_option;
  m.get_stats = rec_get_stats;
  m.read_blk64 = rec_read64;
  m.write_blk64 = rec_write64;
  return m;
}();

errcode_t rec_open(const char* name, int /*flags*/, io_channel* channel) {
  if (t_opening == nullptr) {
    return EXT2_ET_BAD_DEVICE_NAME;
  }
  auto* ch = static_cast<io_channel>(std::calloc(1, sizeof(struct struct_io_channel)));
  if (ch == nullptr) {
    return ENOMEM;
  }
  ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  ch->manager = &g_manager;
  ch->name = ::strdup(name);
  ch->block_size = 1024;
  ch->refcount = 1;
  ch->private_data = t_opening;
  t_opening->stats.num_fields = 2;
  *channel = ch;
  return 0;
}

std::string ext2_message(errcode_t e) {
  static std::once_flag once;
  std::call_once(once, [] { initialize_ext2_error_table(); });
  return error_message(e);
}

// Splits "a/b/c" into ("a/b", "c").
std::pair<std::string, std::string> split_path(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return {"", path};
  }
  return {path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Ext4Fs::Impl {
  ext2_filsys fs = nullptr;
  IoState io;
  std::string where;  // "'disk' at offset N", for messages

  ~Impl() {
    if (fs != nullptr) {
      ext2fs_free(fs);  // no flush: see the header
    }
    if (io.fd >= 0) {
      ::close(io.fd);
    }
  }

  std::unexpected<common::Error> err(errcode_t e, std::string_view what, const std::string& path) const {
    return fail(Errc::io, "{} '/{}' in the filesystem of {}: {}", what, path, where, ext2_message(e));
  }

  Result<ext2_inode_large> read_inode(ext2_ino_t ino, const std::string& path) const {
    ext2_inode_large inode{};
    if (errcode_t e = ext2fs_read_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode))) {
      return err(e, "reading the inode of", path);
    }
    return inode;
  }

  Result<void> write_inode(ext2_ino_t ino, ext2_inode_large& inode, const std::string& path) {
    if (errcode_t e = ext2fs_write_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode))) {
      return err(e, "writing the inode of", path);
    }
    return {};
  }

  bool has_crtime(const ext2_inode_large& inode) const {
    return EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE &&
           inode.i_extra_isize >= offsetof(ext2_inode_large, i_crtime) + sizeof(inode.i_crtime) -
                                      EXT2_GOOD_OLD_INODE_SIZE;
  }

  void set_times(ext2_inode_large& inode, std::int64_t t) const {
    auto t32 = static_cast<__u32>(t);
    inode.i_atime = inode.i_ctime = inode.i_mtime = t32;
    if (EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE && inode.i_extra_isize >= 24) {
      inode.i_ctime_extra = inode.i_mtime_extra = inode.i_atime_extra = 0;
    }
    if (has_crtime(inode)) {
      inode.i_crtime = t32;
      inode.i_crtime_extra = 0;
    }
  }

  // Mode bits (keeping the type), owner and times of an existing inode.
  Result<void> set_meta(ext2_ino_t ino, mode_t mode, uid_t uid, gid_t gid, std::int64_t t,
                        const std::string& path) {
    TRY_ASSIGN(ext2_inode_large inode, read_inode(ino, path));
    inode.i_mode = static_cast<__u16>((inode.i_mode & LINUX_S_IFMT) | (mode & 07777));
    inode.i_uid = static_cast<__u16>(uid & 0xffff);
    inode.osd2.linux2.l_i_uid_high = static_cast<__u16>(uid >> 16);
    inode.i_gid = static_cast<__u16>(gid & 0xffff);
    inode.osd2.linux2.l_i_gid_high = static_cast<__u16>(gid >> 16);
    set_times(inode, t);
    return write_inode(ino, inode, path);
  }

  // A directory's mtime/ctime after an entry was added or removed (as the kernel would).
  Result<void> touch_dir(ext2_ino_t dir, std::int64_t t, const std::string& path) {
    TRY_ASSIGN(ext2_inode_large inode, read_inode(dir, path));
    inode.i_mtime = inode.i_ctime = static_cast<__u32>(t);
    if (EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE && inode.i_extra_isize >= 24) {
      inode.i_ctime_extra = inode.i_mtime_extra = 0;
    }
    return write_inode(dir, inode, path);
  }

  // Looks `name` up in `dir`: 0 if missing.
  Result<ext2_ino_t> lookup(ext2_ino_t dir, const std::string& name, const std::string& path) const {
    ext2_ino_t ino = 0;
    errcode_t e = ext2fs_lookup(fs, dir, name.c_str(), static_cast<int>(name.size()), nullptr, &ino);
    if (e == EXT2_ET_FILE_NOT_FOUND) {
      return 0;
    }
    if (e) {
      return err(e, "looking up", path);
    }
    return ino;
  }

  // The inode of directory `path` ("" = root), following symlinks; missing components are made
  // 0755 root:root (as tar does for parents it was not given).
  Result<ext2_ino_t> ensure_dir(const std::string& path, std::int64_t t) {
    if (path.empty()) {
      return EXT2_ROOT_INO;
    }
    ext2_ino_t ino = 0;
    errcode_t e = ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path.c_str(), &ino);
    if (e == 0) {
      TRY_ASSIGN(ext2_inode_large inode, read_inode(ino, path));
      if (!LINUX_S_ISDIR(inode.i_mode)) {
        return fail(Errc::invalid_config, "'/{}' is not a directory in the image (in {})", path, where);
      }
      return ino;
    }
    if (e != EXT2_ET_FILE_NOT_FOUND) {
      return err(e, "resolving", path);
    }
    auto [dir, name] = split_path(path);
    TRY_ASSIGN(ext2_ino_t parent, ensure_dir(dir, t));
    return make_dir(parent, name, 0755, 0, 0, t, path);
  }

  // Retries `op` once after growing `dir` when it has no room for another entry.
  template <typename Op>
  errcode_t with_room(ext2_ino_t dir, Op op) {
    errcode_t e = op();
    if (e == EXT2_ET_DIR_NO_SPACE) {
      e = ext2fs_expand_dir(fs, dir);
      if (e == 0) {
        e = op();
      }
    }
    return e;
  }

  Result<ext2_ino_t> make_dir(ext2_ino_t parent, const std::string& name, mode_t mode, uid_t uid,
                              gid_t gid, std::int64_t t, const std::string& path) {
    if (errcode_t e = with_room(parent, [&] { return ext2fs_mkdir(fs, parent, 0, name.c_str()); })) {
      return err(e, "creating directory", path);
    }
    TRY_ASSIGN(ext2_ino_t ino, lookup(parent, name, path));
    TRY(set_meta(ino, mode, uid, gid, t, path));
    TRY(touch_dir(parent, t, path));
    return ino;
  }

  // Unlinks a non-directory and frees its inode and blocks when that was the last link.
  Result<void> remove(ext2_ino_t parent, const std::string& name, ext2_ino_t ino, const std::string& path) {
    if (errcode_t e = ext2fs_unlink(fs, parent, name.c_str(), ino, 0)) {
      return err(e, "unlinking", path);
    }
    TRY_ASSIGN(ext2_inode_large inode, read_inode(ino, path));
    if (inode.i_links_count > 1) {
      --inode.i_links_count;
      inode.i_ctime = static_cast<__u32>(fs->now);
      return write_inode(ino, inode, path);
    }
    return free_inode(ino, inode, path, false);
  }

  // Frees an unlinked inode: its blocks, extended attribute block, and the inode itself.
  Result<void> free_inode(ext2_ino_t ino, ext2_inode_large& inode, const std::string& path, bool dir) {
    auto* small = reinterpret_cast<ext2_inode*>(&inode);
    if (ext2fs_inode_has_valid_blocks2(fs, small)) {
      if (errcode_t e = ext2fs_punch(fs, ino, small, nullptr, 0, ~0ULL)) {
        return err(e, "freeing the blocks of", path);
      }
    }
    if (ext2fs_file_acl_block(fs, small) != 0) {
      if (errcode_t e = ext2fs_free_ext_attr(fs, ino, &inode)) {
        return err(e, "freeing the extended attributes of", path);
      }
    }
    inode.i_links_count = 0;
    if (dir) {
      inode.i_size = 0;
    }
    inode.i_dtime = static_cast<__u32>(fs->now);
    TRY(write_inode(ino, inode, path));
    ext2fs_inode_alloc_stats2(fs, ino, -1, dir ? 1 : 0);
    return {};
  }

  // Any entry; a directory with everything in it (its ".." link leaves the parent).
  Result<void> remove_any(ext2_ino_t parent, const std::string& name, ext2_ino_t ino, const std::string& path) {
    TRY_ASSIGN(ext2_inode_large inode, read_inode(ino, path));
    if (!LINUX_S_ISDIR(inode.i_mode)) {
      return remove(parent, name, ino, path);
    }
    TRY_ASSIGN(auto children, list_dir(ino, path));
    for (const auto& [child, child_ino] : children) {
      TRY(remove_any(ino, child, child_ino, path + "/" + child));
    }
    if (errcode_t e = ext2fs_unlink(fs, parent, name.c_str(), ino, 0)) {
      return err(e, "unlinking", path);
    }
    TRY_ASSIGN(inode, read_inode(ino, path));
    TRY(free_inode(ino, inode, path, true));
    TRY_ASSIGN(ext2_inode_large p, read_inode(parent, path + "/.."));
    if (p.i_links_count > 2) {  // 1 means dir_nlink overflow: the count is not kept
      --p.i_links_count;
      TRY(write_inode(parent, p, path + "/.."));
    }
    return {};
  }

  Result<void> write_file(ext2_ino_t parent, const std::string& name, const TarEntry& entry,
                          std::int64_t t) {
    const std::string& path = entry.path;
    ext2_ino_t ino = 0;
    if (errcode_t e = ext2fs_new_inode(fs, parent, LINUX_S_IFREG | 0644, nullptr, &ino)) {
      return err(e, "allocating an inode for", path);
    }
    if (errcode_t e = with_room(parent, [&] {
          return ext2fs_link(fs, parent, name.c_str(), ino, EXT2_FT_REG_FILE);
        })) {
      return err(e, "linking", path);
    }
    ext2fs_inode_alloc_stats2(fs, ino, +1, 0);

    std::uint64_t size = entry.host_path.empty() ? entry.data.size() : entry.size;
    ext2_inode_large inode{};
    inode.i_mode = static_cast<__u16>(LINUX_S_IFREG | (entry.mode & 07777));
    inode.i_uid = static_cast<__u16>(entry.uid & 0xffff);
    inode.osd2.linux2.l_i_uid_high = static_cast<__u16>(entry.uid >> 16);
    inode.i_gid = static_cast<__u16>(entry.gid & 0xffff);
    inode.osd2.linux2.l_i_gid_high = static_cast<__u16>(entry.gid >> 16);
    inode.i_links_count = 1;
    inode.i_atime = inode.i_ctime = inode.i_mtime = static_cast<__u32>(t);
    auto* small = reinterpret_cast<ext2_inode*>(&inode);
    if (errcode_t e = ext2fs_inode_size_set(fs, small, size)) {
      return err(e, "sizing", path);
    }
    if (ext2fs_has_feature_extents(fs->super)) {
      ext2_extent_handle_t handle = nullptr;
      inode.i_flags &= ~EXT4_EXTENTS_FL;
      if (errcode_t e = ext2fs_extent_open2(fs, ino, small, &handle)) {
        return err(e, "starting the extent tree of", path);
      }
      ext2fs_extent_free(handle);
    }
    if (errcode_t e = ext2fs_write_new_inode(fs, ino, small)) {
      return err(e, "writing the inode of", path);
    }
    TRY(write_content(ino, entry));
    TRY(set_meta(ino, entry.mode, entry.uid, entry.gid, t, path));  // crtime, after the data
    return {};
  }

  Result<void> write_content(ext2_ino_t ino, const TarEntry& entry) {
    const std::string& path = entry.path;
    ext2_file_t file = nullptr;
    if (errcode_t e = ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &file)) {
      return err(e, "opening", path);
    }
    struct Closer {
      ext2_file_t& f;
      ~Closer() {
        if (f != nullptr) {
          ext2fs_file_close(f);
        }
      }
    } closer{file};
    auto put = [&](const char* data, std::size_t n) -> Result<void> {
      while (n > 0) {
        unsigned int written = 0;
        auto chunk = static_cast<unsigned int>(std::min<std::size_t>(n, 1u << 20));
        if (errcode_t e = ext2fs_file_write(file, data, chunk, &written)) {
          return err(e, "writing", path);
        }
        if (written == 0) {
          return fail(Errc::io, "writing '/{}' in the filesystem of {}: no progress", path, where);
        }
        data += written;
        n -= written;
      }
      return {};
    };
    if (entry.host_path.empty()) {
      TRY(put(entry.data.data(), entry.data.size()));
    } else {
      TRY_ASSIGN(std::uint64_t total, common::fs::read_chunks(entry.host_path, put));
      if (total != entry.size) {
        return fail(Errc::io, "'{}' changed size while being copied ({} bytes, expected {})",
                    entry.host_path.string(), total, entry.size);
      }
    }
    ext2_file_t f = file;
    file = nullptr;
    if (errcode_t e = ext2fs_file_close(f)) {
      return err(e, "closing", path);
    }
    return {};
  }

  Result<void> apply_entry(const TarEntry& entry, std::int64_t t) {
    auto [dir, name] = split_path(entry.path);
    if (name.empty() || name == "." || name == "..") {
      return fail(Errc::invalid_config, "bad path '{}' in a file tree", entry.path);
    }
    TRY_ASSIGN(ext2_ino_t parent, ensure_dir(dir, t));
    TRY_ASSIGN(ext2_ino_t existing, lookup(parent, name, entry.path));
    std::optional<ext2_inode_large> old;
    if (existing != 0) {
      TRY_ASSIGN(old, read_inode(existing, entry.path));
    }
    if (entry.type == TarEntry::Type::dir) {
      if (!old) {
        TRY(make_dir(parent, name, entry.mode, entry.uid, entry.gid, t, entry.path));
        return {};
      }
      if (LINUX_S_ISDIR(old->i_mode)) {
        return set_meta(existing, entry.mode, entry.uid, entry.gid, t, entry.path);
      }
      if (LINUX_S_ISLNK(old->i_mode)) {
        // A symlink to a directory stays (tar --keep-directory-symlink): /lib -> usr/lib.
        ext2_ino_t target = 0;
        if (ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, entry.path.c_str(), &target) == 0) {
          TRY_ASSIGN(ext2_inode_large ti, read_inode(target, entry.path));
          if (LINUX_S_ISDIR(ti.i_mode)) {
            return {};
          }
        }
      }
      return fail(Errc::invalid_config, "'/{}' exists in the image and is not a directory", entry.path);
    }
    if (old) {
      if (LINUX_S_ISDIR(old->i_mode)) {
        return fail(Errc::invalid_config, "'/{}' is a directory in the image; a {} can't replace it",
                    entry.path, entry.type == TarEntry::Type::file ? "file" : "symlink");
      }
      TRY(remove(parent, name, existing, entry.path));
    }
    if (entry.type == TarEntry::Type::symlink) {
      if (errcode_t e = with_room(parent, [&] {
            return ext2fs_symlink(fs, parent, 0, name.c_str(), entry.link_target.c_str());
          })) {
        return err(e, "creating symlink", entry.path);
      }
      TRY_ASSIGN(ext2_ino_t ino, lookup(parent, name, entry.path));
      TRY(set_meta(ino, 0777, entry.uid, entry.gid, t, entry.path));
    } else {
      TRY(write_file(parent, name, entry, t));
    }
    return touch_dir(parent, t, entry.path);
  }

  Result<Ext4Stat> stat_of(ext2_ino_t ino, const std::string& path) const {
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

  // Entries of directory `dir` other than "." and "..": (name, inode).
  Result<std::vector<std::pair<std::string, ext2_ino_t>>> list_dir(ext2_ino_t dir, const std::string& path) const {
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

  Result<std::string> symlink_target(ext2_ino_t ino, ext2_inode_large& inode, const std::string& path) const {
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

  Result<std::string> read_ino(ext2_ino_t ino, const std::string& path, std::uint64_t max) const {
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
      errcode_t e = ext2fs_file_read(file, out.data() + done,
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
};

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
  t_opening = &impl->io;
  errcode_t e = ext2fs_open2(disk.c_str(), nullptr, flags, 0, 0, &g_manager, &impl->fs);
  t_opening = nullptr;
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
    errcode_t e = ext2fs_get_next_inode_full(scan, &ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode));
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
