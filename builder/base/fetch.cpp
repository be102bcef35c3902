// fetch_artifact: resolve the expected checksum first (so the cache entry is known before any
// byte is downloaded), serve a verified entry if there is one, else download into
// "<name>.partial" next to the entry, verify, and publish with a rename. file:// URLs go through
// the same path (a resumable copy), which keeps the cache logic testable without a network.
#include "base/fetch.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

#include "base/keyring.hpp"
#include "base/sha256sums.hpp"
#include "base/signature.hpp"
#include "common/fs.hpp"
#include "common/hash.hpp"
#include "common/log.hpp"

namespace binder::base {

namespace {

using common::Errc;
using common::fail;
namespace cfs = common::fs;
namespace http = common::http;
namespace stdfs = std::filesystem;

bool is_http(std::string_view s) { return s.starts_with("https://") || s.starts_with("http://"); }
bool is_file_url(std::string_view s) { return s.starts_with("file://"); }

// "file:///a/b" -> "/a/b" (no percent-decoding: test and local paths only).
stdfs::path file_url_path(std::string_view url) { return stdfs::path(std::string(url.substr(7))); }

// An exclusive flock on a file, released on destruction.
class FileLock {
 public:
  static Result<FileLock> acquire(const stdfs::path& path) {
    TRY(cfs::make_directories(path.parent_path()));
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return fail(Errc::io, "opening lock file '{}': {}", path.string(), std::strerror(errno));
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        int err = errno;
        ::close(fd);
        return fail(Errc::io, "locking '{}': {}", path.string(), std::strerror(err));
      }
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
  ~FileLock() {
    if (m_fd >= 0)
      ::close(m_fd);
  }

 private:
  explicit FileLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

// Appends the rest of `from` to `to` (a resumable local copy, for file:// URLs).
Result<void> copy_resuming(const stdfs::path& from, const stdfs::path& to) {
  std::error_code ec;
  auto total = stdfs::file_size(from, ec);
  if (ec) {
    return fail(Errc::not_found, "cannot read '{}': {}", from.string(), ec.message());
  }
  std::uintmax_t have = stdfs::exists(to) ? stdfs::file_size(to, ec) : 0;
  if (have > total) {
    stdfs::remove(to, ec);
    have = 0;
  }
  std::ifstream in(from, std::ios::binary);
  std::ofstream out(to, std::ios::binary | std::ios::app);
  if (!in || !out) {
    return fail(Errc::io, "copying '{}' to '{}': cannot open", from.string(), to.string());
  }
  in.seekg(static_cast<std::streamoff>(have));
  out << in.rdbuf();
  out.flush();
  if (!out) {
    return fail(Errc::io, "writing '{}'", to.string());
  }
  return {};
}

// A small file (checksum list, signature, keyring) from a URL or path, into memory; `what` names it.
Result<std::string> read_small(const std::string& where, std::string_view what, const FetchOptions& options) {
  if (is_http(where)) {
    http::Client client(options.http);
    TRY_ASSIGN(http::Response r, client.send(http::Request{"GET", where, {}, ""}));
    if (r.status != 200) {
      return fail(Errc::network, "GET {}: HTTP {}", where, r.status);
    }
    return r.body;
  }
  auto path = is_file_url(where) ? file_url_path(where) : stdfs::path(where);
  auto text = cfs::read_file(path);
  if (!text) {
    return fail(Errc::not_found, "cannot read {} '{}': {}", what, where, text.error().message);
  }
  return *text;
}

Result<std::string> verify_local_file(const ArtifactSource& source, const FetchOptions& options) {
  std::error_code ec;
  if (!stdfs::is_regular_file(source.file, ec)) {
    return fail(Errc::not_found, "'{}' does not exist or is not a regular file", source.file.string());
  }
  if (source.sha256.empty() && source.sha256sums.empty()) {
    return std::string{};  // allowed by the caller (require_checksum == false)
  }
  TRY_ASSIGN(std::string expected, expected_sha256(source, options));
  TRY_ASSIGN(std::string actual, common::hash::sha256_file(source.file));
  if (actual != expected) {
    return fail(Errc::checksum, "checksum mismatch for '{}': expected sha256 {}, got {}",
                source.file.string(), expected, actual);
  }
  return actual;
}

// gpgv over the SHA256SUMS text: its signature and keyring read like the list itself.
Result<void> verify_list_signature(const ArtifactSource& source, const std::string& list,
                                   const FetchOptions& options) {
  TRY_ASSIGN(std::string sig, read_small(source.signature, "signature", options));
  std::string keyring;
  if (source.keyring.starts_with(k_builtin_keyring_prefix)) {
    auto builtin = builtin_keyring(source.keyring);
    if (!builtin) {
      return fail(Errc::invalid_config, "unknown built-in keyring '{}' (known: {})", source.keyring,
                  k_ubuntu_keyring_name);
    }
    keyring = std::string(*builtin);
  } else {
    TRY_ASSIGN(keyring, read_small(source.keyring, "keyring", options));
  }
  TRY(verify_detached_signature(SignedData{list, source.sha256sums, sig, source.signature, keyring,
                                           source.keyring, source.signing_key}));
  return {};
}

}  // namespace

CacheDir CacheDir::from_env() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    return CacheDir{stdfs::path(xdg) / "binder-image"};
  }
  const char* home = std::getenv("HOME");
  return CacheDir{stdfs::path(home != nullptr && home[0] != '\0' ? home : "/root") / ".cache" /
                  "binder-image"};
}

std::string ArtifactSource::effective_name() const {
  if (!name.empty()) {
    return name;
  }
  if (!file.empty()) {
    return file.filename().string();
  }
  std::string_view u = url;
  u = u.substr(0, u.find_first_of("?#"));
  while (u.ends_with('/'))
    u.remove_suffix(1);
  auto slash = u.rfind('/');
  return std::string(slash == std::string_view::npos ? u : u.substr(slash + 1));
}

std::string ArtifactSource::display() const { return url.empty() ? file.string() : url; }

Result<std::string> expected_sha256(const ArtifactSource& source, const FetchOptions& options) {
  if (!source.sha256.empty()) {
    if (!is_sha256_hex(source.sha256)) {
      return fail(Errc::invalid_config, "sha256 '{}' for '{}' is not 64 hex digits", source.sha256,
                  source.display());
    }
    return normalize_sha256(source.sha256);
  }
  if (source.sha256sums.empty()) {
    return fail(Errc::invalid_config, "no sha256 or sha256sums given for '{}'", source.display());
  }
  if (source.signature.empty() != source.keyring.empty()) {
    return fail(Errc::invalid_config, "'{}': a signature needs a keyring and a keyring a signature",
                source.display());
  }
  TRY_ASSIGN(std::string text, read_small(source.sha256sums, "checksum list", options));
  if (!source.signature.empty()) {
    TRY(verify_list_signature(source, text, options));
  }
  return lookup_sha256(text, source.effective_name(), source.sha256sums);
}

Result<Fetched> fetch_artifact(const ArtifactSource& source, const CacheDir& cache,
                               const FetchOptions& options) {
  if (source.url.empty() == source.file.empty()) {
    return fail(Errc::invalid_config, "give exactly one of url or file (got {})",
                source.url.empty() ? "neither" : "both");
  }
  if (source.require_checksum && source.sha256.empty() && source.sha256sums.empty()) {
    return fail(Errc::invalid_config, "no sha256 or sha256sums given for '{}'", source.display());
  }
  if (!source.file.empty()) {
    TRY_ASSIGN(std::string sha, verify_local_file(source, options));
    return Fetched{source.file, sha, false};
  }
  if (!is_http(source.url) && !is_file_url(source.url)) {
    return fail(Errc::invalid_config, "unsupported URL '{}' (use https://, http:// or file://)", source.url);
  }
  auto name = source.effective_name();
  if (name.empty() || name == "." || name == "..") {
    return fail(Errc::invalid_config, "cannot tell a file name from URL '{}'; give a name", source.url);
  }
  TRY_ASSIGN(std::string expected, expected_sha256(source, options));
  auto dir = cache.downloads() / expected;
  auto entry = dir / name;
  auto partial = dir / (name + ".partial");
  TRY_ASSIGN(FileLock lock, FileLock::acquire(cache.downloads() / ".locks" / (expected + ".lock")));
  std::error_code ec;
  if (stdfs::is_regular_file(entry, ec)) {
    return Fetched{entry, expected, true};
  }
  TRY(cfs::make_directories(dir));
  if (stdfs::exists(partial, ec)) {
    common::log::info("resuming download of '{}' at {} bytes", source.url, stdfs::file_size(partial, ec));
  }
  if (is_file_url(source.url)) {
    TRY_CTX(copy_resuming(file_url_path(source.url), partial), "fetching '{}'", source.url);
  } else {
    http::Client client(options.http);
    TRY_CTX(client.download(source.url, partial, options.progress), "downloading '{}'", source.url);
  }
  TRY_ASSIGN(std::string actual, common::hash::sha256_file(partial));
  if (actual != expected) {
    stdfs::remove(partial, ec);
    stdfs::remove(dir, ec);  // only if empty
    return fail(Errc::checksum, "checksum mismatch for '{}': expected sha256 {}, got {}", source.url,
                expected, actual);
  }
  // Published only now: the entry's name promises verified content.
  TRY(cfs::rename_path(partial, entry));
  TRY(cfs::fsync_dir(dir));
  return Fetched{entry, expected, false};
}

Result<stdfs::path> fetch_image(const ImageSource& source, const CacheDir& cache,
                                const http::ProgressFn& progress) {
  common::log::Step step(fmt::format("fetching base image '{}'", source.effective_name()));
  FetchOptions options;
  options.progress = progress;
  TRY_ASSIGN(Fetched fetched, fetch_artifact(source, cache, options));
  step.finish(fetched.cached || !source.file.empty() ? "cached" : "downloaded");
  return fetched.path;
}

}  // namespace binder::base
