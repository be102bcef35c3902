// SHA-256 (OpenSSL EVP) for files, strings and cache transcripts. Transcript adds delimited,
// typed fields ("name=<len>:<bytes>\n") so no two different input sets hash alike, and can keep
// the text of the transcript to explain cache misses.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace binder::common::hash {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::string_view data);
  void update(const void* data, std::size_t size);
  // Lower-case hex digest; the object can't be updated afterwards.
  std::string hex_digest();
  std::string raw_digest();  // 32 bytes

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

std::string sha256_hex(std::string_view data);
Result<std::string> sha256_file(const std::filesystem::path& path);
std::string to_hex(std::string_view bytes);

// An explicit, readable transcript of inputs whose hash names a cache entry.
class Transcript {
 public:
  void add(std::string_view name, std::string_view value);
  const std::string& text() const { return m_text; }
  std::string digest() const { return sha256_hex(m_text); }

 private:
  std::string m_text;
};

}  // namespace binder::common::hash
