// The recording io_manager behind Ext4Fs (ext4.hpp): libext2fs reads and writes the disk file
// with pread/pwrite at an offset, and every byte range written is recorded, so the caller can
// copy exactly those ranges into a qcow2 overlay. Internal to builder/image.
#pragma once

#include <ext2fs/ext2fs.h>

#include <cstdint>
#include <string>
#include <vector>

#include "image/ext4.hpp"

namespace binder::image::ext4_io {

struct IoState {
  int fd = -1;
  std::uint64_t offset = 0;
  std::vector<ByteRange> dirty;
  struct struct_io_stats stats {};
};

// The manager to pass to ext2fs_open2. Its open() binds the channel to `state`, which must be
// set with opening() around that call (libext2fs passes only a name through).
io_manager manager();
void opening(IoState* state);

// libext2fs' message for an error code ("Ext2 inode is not a directory").
std::string message(errcode_t e);

}  // namespace binder::image::ext4_io
