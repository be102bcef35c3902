// Ext4Fs::Impl: the inode-level operations behind Ext4Fs (ext4.hpp), after e2fsprogs' own
// populate code (misc/create_inode.c, used by `mke2fs -d`) and debugfs' file removal
// (kill_file_by_inode). Internal to builder/image (ext4.cpp).
#pragma once

#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/fs.hpp"
#include "image/ext4.hpp"
#include "image/ext4_io.hpp"

namespace binder::image {

using common::Errc;
using common::fail;
using ext4_io::IoState;

namespace ext4_detail {

// Splits "a/b/c" into ("a/b", "c").
inline std::pair<std::string, std::string> split_path(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return {"", path};
  }
  return {path.substr(0, slash), path.substr(slash + 1)};
}

inline std::string ext2_message(errcode_t e) { return ext4_io::message(e); }

}  // namespace ext4_detail

struct Ext4Fs::Impl {
  static std::pair<std::string, std::string> split_path(const std::string& p) {
    return ext4_detail::split_path(p);
  }
  static std::string ext2_message(errcode_t e) { return ext4_detail::ext2_message(e); }

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
    if (errcode_t e =
            ext2fs_write_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof(inode))) {
      return err(e, "writing the inode of", path);
    }
    return {};
  }

  bool has_crtime(const ext2_inode_large& inode) const {
    return EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE &&
           inode.i_extra_isize >=
               offsetof(ext2_inode_large, i_crtime) + sizeof(inode.i_crtime) - EXT2_GOOD_OLD_INODE_SIZE;
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

  Result<ext2_ino_t> make_dir(ext2_ino_t parent, const std::string& name, mode_t mode, uid_t uid, gid_t gid,
                              std::int64_t t, const std::string& path) {
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
  Result<void> remove_any(ext2_ino_t parent, const std::string& name, ext2_ino_t ino,
                          const std::string& path) {
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

  Result<void> write_file(ext2_ino_t parent, const std::string& name, const TarEntry& entry, std::int64_t t) {
    const std::string& path = entry.path;
    ext2_ino_t ino = 0;
    if (errcode_t e = ext2fs_new_inode(fs, parent, LINUX_S_IFREG | 0644, nullptr, &ino)) {
      return err(e, "allocating an inode for", path);
    }
    if (errcode_t e =
            with_room(parent, [&] { return ext2fs_link(fs, parent, name.c_str(), ino, EXT2_FT_REG_FILE); })) {
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

  // Reading (ext4.cpp).
  Result<Ext4Stat> stat_of(ext2_ino_t ino, const std::string& path) const;
  // Entries of directory `dir` other than "." and "..": (name, inode).
  Result<std::vector<std::pair<std::string, ext2_ino_t>>> list_dir(ext2_ino_t dir,
                                                                   const std::string& path) const;
  Result<std::string> symlink_target(ext2_ino_t ino, ext2_inode_large& inode, const std::string& path) const;
  Result<std::string> read_ino(ext2_ino_t ino, const std::string& path, std::uint64_t max) const;
};

}  // namespace binder::image
