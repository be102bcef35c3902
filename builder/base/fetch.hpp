// Fetching verified inputs: cloud images and release files (k3s binary, airgap images) from a URL
// or a local file, checked against a sha256 given directly or looked up in a SHA256SUMS file.
//
// Download cache layout (under CacheDir::root, default ${XDG_CACHE_HOME:-~/.cache}/binder-image):
//   downloads/<sha256>/<name>           a verified file; only ever created by a rename after its
//                                       sha256 was checked, so an entry is never corrupt
//   downloads/<sha256>/<name>.partial   an interrupted download; the next fetch resumes it (HTTP
//                                       Range); deleted when the finished file does not verify
//   downloads/.locks/<sha256>.lock      flock held while one process fills the entry
// A source with a known sha256 whose entry exists is served without touching the network.
#pragma once

#include <filesystem>
#include <string>

#include "common/http.hpp"
#include "common/result.hpp"

namespace binder::base {

using common::Result;

struct CacheDir {
  std::filesystem::path root;  // ".../binder-image"
  // ${XDG_CACHE_HOME:-$HOME/.cache}/binder-image (XDG_CACHE_HOME ignored unless absolute).
  static CacheDir from_env();
  std::filesystem::path downloads() const { return root / "downloads"; }
};

// Where an input comes from. Exactly one of url / file. The checksum: `sha256`, or `sha256sums`
// (a URL or path of a SHA256SUMS-style list, looked up by `name`), or both (sha256 wins).
struct ArtifactSource {
  std::string url;             // https://, http:// or file:// URL
  std::filesystem::path file;  // a local file, verified where it is (not copied)
  std::string sha256;          // 64 hex digits
  std::string sha256sums;      // URL (https/http/file) or local path
  std::string name;            // list key and cache file name; default: last component of url/file
  // Optional, with sha256sums: a detached OpenPGP signature of the list (URL or path) that gpgv
  // must accept with `keyring` (URL, path, or "builtin:<name>", base/keyring.hpp) before the list
  // is trusted; `signing_key` additionally pins the signer's primary fingerprint.
  std::string signature;
  std::string keyring;
  std::string signing_key;
  bool require_checksum = true;  // false: an unchecked local file is accepted (rootfs tarballs)

  // `name`, or the last path component of the URL (without query) or file.
  std::string effective_name() const;
  // The URL or file path, for messages.
  std::string display() const;
};
using ImageSource = ArtifactSource;

struct FetchOptions {
  common::http::Options http;         // timeouts, CA file, retries
  common::http::ProgressFn progress;  // download progress (bytes so far, total or -1)
};

struct Fetched {
  std::filesystem::path path;  // the verified file (cache entry, or the local file itself)
  std::string sha256;          // its checksum (empty only for an unchecked local file)
  bool cached = false;         // served from the download cache without downloading
};

// Fetches and verifies `source`. On success the returned path holds bytes with the expected
// sha256. Errors, each naming the URL or file:
//   Errc::invalid_config  no checksum given (and require_checksum), both or neither of url/file,
//                         a malformed sha256
//   Errc::checksum        mismatch ("expected X, got Y"; a downloaded partial file is deleted, no
//                         cache entry is created), the name is missing from the SHA256SUMS list,
//                         or the list's signature does not verify (base/signature.hpp; checked
//                         before anything is downloaded)
//   Errc::not_found/io    a local file or list that cannot be read; cache directory problems
//   Errc::network/temporary  from the HTTP client (the partial file is kept for resuming)
Result<Fetched> fetch_artifact(const ArtifactSource& source, const CacheDir& cache,
                               const FetchOptions& options = {});

// fetch_artifact for a base cloud image, as a logged step ("fetching base image '<name>'").
Result<std::filesystem::path> fetch_image(const ImageSource& source, const CacheDir& cache,
                                          const common::http::ProgressFn& progress = {});

// The expected checksum of `source`: its sha256, else the entry for effective_name() in its
// SHA256SUMS list (fetched into memory, its signature verified when one is given).
// Errc::invalid_config if it has neither, or a signature without a list.
Result<std::string> expected_sha256(const ArtifactSource& source, const FetchOptions& options = {});

}  // namespace binder::base
