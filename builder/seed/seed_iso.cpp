// The seed ISO through libarchive: its iso9660 writer makes a `cidata` volume in well under a
// second (no genisoimage/xorriso needed), and its reader gives the round trip for tests and
// inspection. libarchive handles are owned by small RAII guards so every path frees them.
#include <archive.h>
#include <archive_entry.h>

#include <ctime>
#include <memory>
#include <utility>

#include "common/archive_error.hpp"
#include "common/fs.hpp"
#include "seed/seed.hpp"

namespace binder::seed {

namespace {

using common::Errc;
using common::fail;

struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// A fixed timestamp (the caller's SOURCE_DATE_EPOCH) keeps equal seeds byte-comparable in the
// entries; the volume descriptor still carries libarchive's own creation time.
std::time_t entry_time(std::optional<std::int64_t> source_date_epoch) {
  return source_date_epoch ? static_cast<std::time_t>(*source_date_epoch) : std::time(nullptr);
}

Result<void> add_file(archive* a, const char* name, std::string_view data, std::time_t when) {
  std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
  archive_entry_set_pathname(e.get(), name);
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
  archive_entry_set_mtime(e.get(), when, 0);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
    return fail(Errc::io, "writing seed entry '{}': {}", name, common::archive_why(a));
  }
  if (!data.empty() &&
      archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size())) {
    return fail(Errc::io, "writing seed entry '{}': {}", name, common::archive_why(a));
  }
  return {};
}

Result<void> write_iso_to(const SeedContent& content, const std::filesystem::path& path,
                          std::optional<std::int64_t> source_date_epoch) {
  std::unique_ptr<archive, WriteDeleter> a(archive_write_new());
  if (!a) {
    return fail(Errc::internal, "archive_write_new failed");
  }
  // Rock Ridge and Joliet keep the lowercase, hyphenated names cloud-init looks for; the plain
  // ISO9660 names would be upper-cased 8.3 forms.
  if (archive_write_set_format_iso9660(a.get()) != ARCHIVE_OK ||
      archive_write_set_options(a.get(), "iso9660:volume-id=cidata,iso9660:rockridge,iso9660:joliet") !=
          ARCHIVE_OK) {
    return fail(Errc::internal, "configuring the iso9660 writer: {}", common::archive_why(a.get()));
  }
  if (archive_write_open_filename(a.get(), path.c_str()) != ARCHIVE_OK) {
    return fail(Errc::io, "opening '{}': {}", path.string(), common::archive_why(a.get()));
  }
  std::time_t when = entry_time(source_date_epoch);
  TRY(add_file(a.get(), "user-data", content.user_data, when));
  TRY(add_file(a.get(), "meta-data", content.meta_data, when));
  if (content.network_config) {
    TRY(add_file(a.get(), "network-config", *content.network_config, when));
  }
  // The iso9660 writer lays out the whole image at close: its errors matter.
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return fail(Errc::io, "finishing '{}': {}", path.string(), common::archive_why(a.get()));
  }
  return {};
}

}  // namespace

Result<void> write_seed_iso(const SeedContent& content, const std::filesystem::path& out,
                            std::optional<std::int64_t> source_date_epoch) {
  common::fs::AtomicFile file(out);
  TRY_CTX(write_iso_to(content, file.temp_path(), source_date_epoch), "writing seed ISO '{}'", out.string());
  // A crash here (test hook) must leave the old seed: the rename is the only visible change.
  TRY_CTX(common::fs::fault_point("committing seed ISO"), "writing seed ISO '{}'", out.string());
  TRY_CTX(file.commit(), "writing seed ISO '{}'", out.string());
  return {};
}

Result<SeedContent> read_seed_iso(const std::filesystem::path& iso) {
  std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
  if (!a) {
    return fail(Errc::internal, "archive_read_new failed");
  }
  archive_read_support_format_iso9660(a.get());
  if (archive_read_open_filename(a.get(), iso.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return fail(Errc::io, "opening seed ISO '{}': {}", iso.string(), common::archive_why(a.get()));
  }
  std::optional<std::string> user_data;
  std::optional<std::string> meta_data;
  SeedContent result;
  archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return fail(Errc::corrupt_state, "reading seed ISO '{}': {}", iso.string(),
                  common::archive_why(a.get()));
    }
    std::string name = archive_entry_pathname(e) != nullptr ? archive_entry_pathname(e) : "";
    std::string data;
    char buf[16384];
    la_ssize_t n = 0;
    while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0) {
      data.append(buf, static_cast<size_t>(n));
    }
    if (n < 0) {
      return fail(Errc::corrupt_state, "reading '{}' in seed ISO '{}': {}", name, iso.string(),
                  common::archive_why(a.get()));
    }
    if (name == "user-data") {
      user_data = std::move(data);
    } else if (name == "meta-data") {
      meta_data = std::move(data);
    } else if (name == "network-config") {
      result.network_config = std::move(data);
    }
  }
  if (!user_data || !meta_data) {
    return fail(Errc::corrupt_state, "seed ISO '{}' lacks {}", iso.string(),
                !user_data ? "user-data" : "meta-data");
  }
  result.user_data = std::move(*user_data);
  result.meta_data = std::move(*meta_data);
  return result;
}

}  // namespace binder::seed
