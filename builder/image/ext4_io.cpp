// See ext4_io.hpp.
#include "image/ext4_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

extern "C" {
#include <et/com_err.h>
}

namespace binder::image::ext4_io {
namespace {

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

}  // namespace

io_manager manager() { return &g_manager; }
void opening(IoState* state) { t_opening = state; }

std::string message(errcode_t e) {
  static std::once_flag once;
  std::call_once(once, [] { initialize_ext2_error_table(); });
  return error_message(e);
}

}  // namespace binder::image::ext4_io
