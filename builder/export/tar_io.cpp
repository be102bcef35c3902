// See tar_io.hpp. libarchive handles are held in unique_ptrs so every error path frees them.
#include "export/tar_io.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/archive_error.hpp"
#include "common/hash.hpp"

namespace binder::exporter::tar {
namespace {

using common::Errc;
using common::fail;

constexpr std::size_t k_chunk = 1 << 20;

struct WriteCloser {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ReadCloser {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

// Streams `fd` (of `size` bytes) into the archive; hole ranges become zeros without a read.
Result<void> copy_data(struct archive* a, int fd, std::uint64_t size, const std::string& name) {
  std::vector<char> buf(k_chunk);
  static const std::vector<char> zeros(k_chunk, 0);
  auto put = [&](const char* p, std::size_t n) -> Result<void> {
    if (archive_write_data(a, p, n) != static_cast<la_ssize_t>(n)) {
      return fail(Errc::io, "writing member '{}': {}", name, common::archive_why(a));
    }
    return {};
  };
  off_t pos = 0;
  const off_t end = static_cast<off_t>(size);
  while (pos < end) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) {
      data = (errno == ENXIO) ? end : pos;  // ENXIO: only a hole remains; other: no hole support
    }
    for (; pos < data; pos += static_cast<off_t>(std::min<std::uint64_t>(k_chunk, data - pos))) {
      TRY(put(zeros.data(), std::min<std::uint64_t>(k_chunk, data - pos)));
    }
    if (pos >= end) {
      break;
    }
    off_t hole = ::lseek(fd, pos, SEEK_HOLE);
    if (hole < 0 || hole > end) {
      hole = end;
    }
    while (pos < hole) {
      std::size_t want = std::min<std::uint64_t>(k_chunk, hole - pos);
      ssize_t got = ::pread(fd, buf.data(), want, pos);
      if (got <= 0) {
        return fail(Errc::io, "reading the data of member '{}': {}", name,
                    got < 0 ? std::strerror(errno) : "file shrank while being archived");
      }
      TRY(put(buf.data(), static_cast<std::size_t>(got)));
      pos += got;
    }
  }
  return {};
}

Result<std::string> first_header_magic(const std::filesystem::path& path) {
  std::unique_ptr<struct archive, ReadCloser> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return fail(Errc::io, "opening '{}': {}", path.string(), common::archive_why(a.get()));
  }
  archive_entry* e = nullptr;
  if (archive_read_next_header(a.get(), &e) != ARCHIVE_OK) {
    return fail(Errc::corrupt_state, "'{}': {}", path.string(), common::archive_why(a.get()));
  }
  std::string block(512, '\0');
  std::size_t have = 0;
  while (have < block.size()) {
    la_ssize_t n = archive_read_data(a.get(), block.data() + have, block.size() - have);
    if (n <= 0) {
      return fail(Errc::corrupt_state, "'{}' is shorter than one tar header", path.string());
    }
    have += static_cast<std::size_t>(n);
  }
  return block.substr(257, 8);
}

}  // namespace

Result<void> write(const std::filesystem::path& dst, const std::vector<Member>& members,
                   const WriteOptions& options) {
  std::unique_ptr<struct archive, WriteCloser> a(archive_write_new());
  int r = options.format == Format::ustar ? archive_write_set_format_ustar(a.get())
                                          : archive_write_set_format_gnutar(a.get());
  if (r == ARCHIVE_OK && options.gzip) {
    r = archive_write_add_filter_gzip(a.get());
    if (r == ARCHIVE_OK) {
      r = archive_write_set_options(a.get(), "gzip:!timestamp");
    }
  }
  if (r != ARCHIVE_OK || archive_write_open_filename(a.get(), dst.c_str()) != ARCHIVE_OK) {
    return fail(Errc::io, "creating tar '{}': {}", dst.string(), common::archive_why(a.get()));
  }
  for (const Member& m : members) {
    Fd fd{::open(m.source.c_str(), O_RDONLY | O_CLOEXEC)};
    struct stat st {};
    if (fd.fd < 0 || ::fstat(fd.fd, &st) != 0) {
      return fail(Errc::io, "opening '{}' for tar member '{}': {}", m.source.string(), m.name,
                  std::strerror(errno));
    }
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), m.name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), st.st_size);
    archive_entry_set_mtime(e.get(), options.mtime, 0);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
      return fail(Errc::io, "writing the tar header of '{}' to '{}': {}", m.name, dst.string(),
                  common::archive_why(a.get()));
    }
    TRY_CTX(copy_data(a.get(), fd.fd, static_cast<std::uint64_t>(st.st_size), m.name), "writing tar '{}'",
            dst.string());
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return fail(Errc::io, "finishing tar '{}': {}", dst.string(), common::archive_why(a.get()));
  }
  return {};
}

Result<Listing> read(const std::filesystem::path& path, bool hash, std::uint64_t keep_data) {
  std::unique_ptr<struct archive, ReadCloser> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return fail(Errc::io, "opening tar '{}': {}", path.string(), common::archive_why(a.get()));
  }
  Listing out;
  std::vector<char> buf(k_chunk);
  archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
    if (out.members.empty()) {
      out.format_code = archive_format(a.get());
      const char* fname = archive_format_name(a.get());
      out.format_name = fname ? fname : "";
    }
    MemberInfo m;
    const char* name = archive_entry_pathname(e);
    m.name = name ? name : "";
    m.size = static_cast<std::uint64_t>(archive_entry_size(e));
    m.regular = archive_entry_filetype(e) == AE_IFREG;
    m.mtime = archive_entry_mtime(e);
    m.uid = archive_entry_uid(e);
    m.gid = archive_entry_gid(e);
    common::hash::Sha256 h;
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buf.data(), buf.size())) > 0) {
      if (hash) {
        h.update(buf.data(), static_cast<std::size_t>(n));
      }
      if (m.size <= keep_data) {
        m.data.append(buf.data(), static_cast<std::size_t>(n));
      }
    }
    if (n < 0) {
      return fail(Errc::corrupt_state, "reading member '{}' of '{}': {}", m.name, path.string(),
                  common::archive_why(a.get()));
    }
    if (hash) {
      m.sha256 = h.hex_digest();
    }
    out.members.push_back(std::move(m));
  }
  if (r != ARCHIVE_EOF) {
    return fail(Errc::corrupt_state, "reading tar '{}': {}", path.string(), common::archive_why(a.get()));
  }
  for (int i = archive_filter_count(a.get()) - 1; i >= 0; --i) {
    const char* fname = archive_filter_name(a.get(), i);
    if (fname && std::strcmp(fname, "none") != 0) {
      out.filters.push_back(fname);
    }
  }
  TRY_ASSIGN(out.magic, first_header_magic(path));
  return out;
}

}  // namespace binder::exporter::tar
