// See tgz.hpp. libarchive reads and writes; the pax global header is read by hand from the first
// decompressed blocks (libarchive's tar reader does not expose it).
#include "charts/tgz.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "common/archive_error.hpp"
namespace binder::charts {
namespace {

using common::Errc;
using common::fail;

struct ReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using Reader = std::unique_ptr<archive, ReadFree>;

std::string clean_path(std::string p) {
  while (p.starts_with("./")) {
    p.erase(0, 2);
  }
  while (!p.empty() && p.back() == '/') {
    p.pop_back();
  }
  return p;
}

// The first `max` decompressed bytes of a gzip stream.
Result<std::string> gunzip_prefix(std::string_view bytes, std::size_t max, std::string_view what) {
  Reader a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return fail(Errc::corrupt_state, "{}: not a gzip stream: {}", what, common::archive_why(a.get()));
  }
  archive_entry* e = nullptr;
  if (archive_read_next_header(a.get(), &e) != ARCHIVE_OK) {
    return fail(Errc::corrupt_state, "{}: not a gzip stream: {}", what, common::archive_why(a.get()));
  }
  std::string out(max, '\0');
  std::size_t have = 0;
  while (have < max) {
    la_ssize_t n = archive_read_data(a.get(), out.data() + have, max - have);
    if (n < 0) {
      return fail(Errc::corrupt_state, "{}: {}", what, common::archive_why(a.get()));
    }
    if (n == 0) {
      break;
    }
    have += static_cast<std::size_t>(n);
  }
  out.resize(have);
  return out;
}

}  // namespace

Result<std::vector<ArchiveFile>> read_tgz(std::string_view bytes, std::string_view what) {
  Reader a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return fail(Errc::corrupt_state, "{}: not a gzip tar: {}", what, common::archive_why(a.get()));
  }
  std::vector<ArchiveFile> files;
  while (true) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return fail(Errc::corrupt_state, "{}: not a gzip tar: {}", what, common::archive_why(a.get()));
    }
    std::string path = clean_path(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    auto type = archive_entry_filetype(e);
    if (type == AE_IFDIR) {
      continue;
    }
    if (type != AE_IFREG) {
      return fail(Errc::corrupt_state, "{}: entry '{}' is not a regular file or directory", what, path);
    }
    if (path.empty() || path.starts_with("/") || path == ".." || path.starts_with("../") ||
        path.find("/../") != std::string::npos) {
      return fail(Errc::corrupt_state, "{}: unsafe entry path '{}'", what, path);
    }
    ArchiveFile f;
    f.path = std::move(path);
    f.mode = archive_entry_perm(e) & 0777;
    // The header's size is a claim: grow with the data that really arrives (a header declaring
    // gigabytes over a few bytes of input must not allocate them).
    auto size = archive_entry_size(e);
    std::uint64_t want = size > 0 ? static_cast<std::uint64_t>(size) : 0;
    char buf[65536];
    while (f.data.size() < want) {
      la_ssize_t n =
          archive_read_data(a.get(), buf, std::min<std::uint64_t>(sizeof buf, want - f.data.size()));
      if (n <= 0) {
        return fail(Errc::corrupt_state, "{}: truncated entry '{}' ({} of {} bytes)", what, f.path,
                    f.data.size(), want);
      }
      f.data.append(buf, static_cast<std::size_t>(n));
    }
    files.push_back(std::move(f));
  }
  return files;
}

Result<std::string> tar_commit_id(std::string_view tgz_bytes, std::string_view what) {
  TRY_ASSIGN(std::string head, gunzip_prefix(tgz_bytes, 1024, what));
  // ustar header: typeflag at offset 156; 'g' = pax global header, its records in the next block.
  if (head.size() < 1024 || head[156] != 'g') {
    return std::string{};
  }
  std::string_view records(head.data() + 512, 512);
  std::size_t pos = 0;
  while (pos < records.size()) {
    std::size_t sp = records.find(' ', pos);
    if (sp == std::string_view::npos) {
      break;
    }
    std::size_t len = 0;
    for (std::size_t i = pos; i < sp; ++i) {
      if (records[i] < '0' || records[i] > '9') {
        return std::string{};
      }
      len = len * 10 + static_cast<std::size_t>(records[i] - '0');
      if (len > records.size()) {
        return std::string{};
      }
    }
    // A record is "<len> <key>=<value>\n" with len counting all of it: shorter is malformed.
    if (pos + len > records.size() || pos + len < sp + 2) {
      break;
    }
    std::string_view rec = records.substr(sp + 1, pos + len - sp - 2);  // without the '\n'
    if (rec.starts_with("comment=")) {
      std::string id(rec.substr(8));
      bool hex = id.size() == 40 && std::all_of(id.begin(), id.end(), [](char c) {
                   return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                 });
      return hex ? id : std::string{};
    }
    pos += len;
  }
  return std::string{};
}

Result<std::string> write_tgz(std::vector<ArchiveFile> files, std::int64_t mtime) {
  std::sort(files.begin(), files.end(),
            [](const ArchiveFile& a, const ArchiveFile& b) { return a.path < b.path; });
  for (std::size_t i = 1; i < files.size(); ++i) {
    if (files[i].path == files[i - 1].path) {
      return fail(Errc::internal, "packaging: duplicate archive path '{}'", files[i].path);
    }
  }
  std::unique_ptr<archive, WriteFree> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_add_filter_gzip(a.get());
  // No timestamp or name in the gzip header: equal inputs give equal bytes.
  archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr);
  archive_write_set_bytes_in_last_block(a.get(), 1);
  std::string out;
  std::size_t used = 0;
  // libarchive writes into a fixed buffer; size it generously (gzip never grows data by much).
  std::size_t total = 0;
  for (const auto& f : files) {
    total += f.data.size() + f.path.size() + 2048;
  }
  out.resize(total + 65536);
  if (archive_write_open_memory(a.get(), out.data(), out.size(), &used) != ARCHIVE_OK) {
    return fail(Errc::io, "packaging: {}", common::archive_why(a.get()));
  }
  for (const auto& f : files) {
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), f.path.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), f.mode & 0777);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(f.data.size()));
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_mtime(e.get(), mtime, 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK ||
        (!f.data.empty() && archive_write_data(a.get(), f.data.data(), f.data.size()) !=
                                static_cast<la_ssize_t>(f.data.size()))) {
      return fail(Errc::io, "packaging '{}': {}", f.path, common::archive_why(a.get()));
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return fail(Errc::io, "packaging: {}", common::archive_why(a.get()));
  }
  out.resize(used);
  return out;
}

}  // namespace binder::charts
