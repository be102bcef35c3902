// See archive.hpp. libarchive's pax-restricted writer: plain ustar headers unless a path or size
// needs pax extensions, so the output is readable by any tar, including the appliance's GNU tar.
#include "image/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/archive_error.hpp"
#include "common/fs.hpp"

namespace binder::image {
namespace {

using common::Errc;
using common::fail;

std::string normalize(std::string path) {
  while (!path.empty() && path.front() == '/') {
    path.erase(0, 1);
  }
  while (!path.empty() && path.back() == '/') {
    path.pop_back();
  }
  return path;
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

Result<void> write_host_data(archive* a, const TarEntry& e) {
  std::uint64_t seen = 0;
  TRY_ASSIGN(std::uint64_t total,
             common::fs::read_chunks(e.host_path, [&](const char* data, std::size_t n) -> Result<void> {
               seen += n;
               if (seen > e.size || archive_write_data(a, data, n) < 0) {
                 return fail(Errc::io, "archiving '{}': {}", e.host_path.string(),
                             seen > e.size ? "file grew while being archived" : common::archive_why(a));
               }
               return {};
             }));
  if (total != e.size) {
    return fail(Errc::io, "archiving '{}': file changed size while being archived", e.host_path.string());
  }
  return {};
}

}  // namespace

void TarBuilder::add_file(std::string path, std::string data, mode_t mode, uid_t uid, gid_t gid) {
  TarEntry e;
  e.path = normalize(std::move(path));
  e.data = std::move(data);
  e.size = e.data.size();
  e.mode = mode & 07777;
  e.uid = uid;
  e.gid = gid;
  m_entries[e.path] = std::move(e);
}

Result<void> TarBuilder::add_host_file(std::string path, const std::filesystem::path& host, mode_t mode,
                                       uid_t uid, gid_t gid) {
  struct stat st {};
  if (::stat(host.c_str(), &st) != 0) {
    return fail(errno == ENOENT ? Errc::not_found : Errc::io, "'{}': {}", host.string(),
                std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::invalid_config, "'{}' is not a regular file", host.string());
  }
  TarEntry e;
  e.path = normalize(std::move(path));
  e.host_path = host;
  e.size = static_cast<std::uint64_t>(st.st_size);
  e.mode = mode & 07777;
  e.uid = uid;
  e.gid = gid;
  m_entries[e.path] = std::move(e);
  return {};
}

void TarBuilder::add_dir(std::string path, mode_t mode, uid_t uid, gid_t gid) {
  TarEntry e;
  e.type = TarEntry::Type::dir;
  e.path = normalize(std::move(path));
  e.mode = mode & 07777;
  e.uid = uid;
  e.gid = gid;
  m_entries[e.path] = std::move(e);
}

void TarBuilder::add_symlink(std::string path, std::string target) {
  TarEntry e;
  e.type = TarEntry::Type::symlink;
  e.path = normalize(std::move(path));
  e.mode = 0777;
  e.link_target = std::move(target);
  m_entries[e.path] = std::move(e);
}

Result<void> TarBuilder::add_tree(const std::filesystem::path& host_dir, const std::string& prefix) {
  namespace stdfs = std::filesystem;
  std::error_code ec;
  if (!stdfs::is_directory(host_dir, ec)) {
    return fail(Errc::not_found, "overlay directory '{}' does not exist", host_dir.string());
  }
  std::vector<stdfs::path> paths;
  for (stdfs::recursive_directory_iterator it(host_dir, ec), end; !ec && it != end; it.increment(ec)) {
    paths.push_back(it->path());
  }
  if (ec) {
    return fail(Errc::io, "walking '{}': {}", host_dir.string(), ec.message());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    std::string rel = stdfs::relative(p, host_dir, ec).generic_string();
    std::string dest = prefix.empty() ? rel : normalize(prefix) + "/" + rel;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      return fail(Errc::io, "'{}': {}", p.string(), std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode)) {
      add_symlink(dest, stdfs::read_symlink(p, ec).string());
    } else if (S_ISREG(st.st_mode)) {
      TRY(add_host_file(dest, p, st.st_mode & 07777));
    } else if (S_ISDIR(st.st_mode)) {
      if ((st.st_mode & 07777) != 0755) {
        add_dir(dest, st.st_mode & 07777);
      }
    } else {
      return fail(Errc::invalid_config, "'{}' is not a regular file, directory or symlink", p.string());
    }
  }
  return {};
}

std::vector<const TarEntry*> TarBuilder::entries() const {
  std::vector<const TarEntry*> out;
  out.reserve(m_entries.size());
  for (const auto& [path, e] : m_entries) {
    out.push_back(&e);
  }
  return out;
}

Result<void> TarBuilder::write(const std::filesystem::path& out, std::int64_t mtime) const {
  std::unique_ptr<archive, ArchiveDeleter> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_per_block(a.get(), 10240);
  if (archive_write_open_filename(a.get(), out.c_str()) != ARCHIVE_OK) {
    return fail(Errc::io, "creating '{}': {}", out.string(), common::archive_why(a.get()));
  }
  for (const auto& [path, e] : m_entries) {
    std::unique_ptr<archive_entry, EntryDeleter> ae(archive_entry_new());
    archive_entry_set_pathname(ae.get(), path.c_str());
    archive_entry_set_uid(ae.get(), e.uid);
    archive_entry_set_gid(ae.get(), e.gid);
    archive_entry_set_mtime(ae.get(), mtime, 0);
    switch (e.type) {
      case TarEntry::Type::file:
        archive_entry_set_filetype(ae.get(), AE_IFREG);
        archive_entry_set_size(ae.get(), static_cast<la_int64_t>(e.size));
        break;
      case TarEntry::Type::dir:
        archive_entry_set_filetype(ae.get(), AE_IFDIR);
        break;
      case TarEntry::Type::symlink:
        archive_entry_set_filetype(ae.get(), AE_IFLNK);
        archive_entry_set_symlink(ae.get(), e.link_target.c_str());
        break;
    }
    archive_entry_set_perm(ae.get(), e.mode);
    if (archive_write_header(a.get(), ae.get()) < ARCHIVE_OK) {
      return fail(Errc::io, "writing '{}' entry '{}': {}", out.string(), path, common::archive_why(a.get()));
    }
    if (e.type == TarEntry::Type::file) {
      if (!e.host_path.empty()) {
        TRY(write_host_data(a.get(), e));
      } else if (!e.data.empty() && archive_write_data(a.get(), e.data.data(), e.data.size()) < 0) {
        return fail(Errc::io, "writing '{}': {}", out.string(), common::archive_why(a.get()));
      }
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return fail(Errc::io, "closing '{}': {}", out.string(), common::archive_why(a.get()));
  }
  return {};
}

Result<std::vector<TarEntry>> read_tar(const std::filesystem::path& path, std::uint64_t max_data) {
  std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
  archive_read_support_format_all(a.get());
  archive_read_support_filter_all(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return fail(Errc::io, "opening '{}': {}", path.string(), common::archive_why(a.get()));
  }
  std::vector<TarEntry> out;
  archive_entry* ae = nullptr;
  int r = ARCHIVE_OK;
  while ((r = archive_read_next_header(a.get(), &ae)) == ARCHIVE_OK) {
    TarEntry e;
    // libarchive returns NULL for a name or link target the archive never set (an mtree
    // "type=link" line without link=): an empty string, not a std::string built from NULL.
    const char* name = archive_entry_pathname(ae);
    e.path = name ? name : "";
    e.mode = archive_entry_perm(ae);
    e.uid = static_cast<uid_t>(archive_entry_uid(ae));
    e.gid = static_cast<gid_t>(archive_entry_gid(ae));
    e.size = static_cast<std::uint64_t>(archive_entry_size(ae));
    mode_t type = archive_entry_filetype(ae);
    if (type == AE_IFDIR) {
      e.type = TarEntry::Type::dir;
    } else if (type == AE_IFLNK) {
      e.type = TarEntry::Type::symlink;
      const char* target = archive_entry_symlink(ae);
      e.link_target = target ? target : "";
    } else if (e.size <= max_data) {
      e.data.resize(e.size);
      if (e.size > 0 &&
          archive_read_data(a.get(), e.data.data(), e.size) != static_cast<la_ssize_t>(e.size)) {
        return fail(Errc::io, "reading '{}' from '{}'", e.path, path.string());
      }
    }
    out.push_back(std::move(e));
  }
  if (r != ARCHIVE_EOF) {
    return fail(Errc::io, "reading '{}': {}", path.string(), common::archive_why(a.get()));
  }
  return out;
}

}  // namespace binder::image
