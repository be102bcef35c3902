// See hash.hpp.
#include "common/hash.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace binder::common::hash {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) { EVP_DigestInit_ex(m_impl->ctx, EVP_sha256(), nullptr); }
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t size) { EVP_DigestUpdate(m_impl->ctx, data, size); }
void Sha256::update(std::string_view data) { update(data.data(), data.size()); }

std::string Sha256::raw_digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(m_impl->ctx, md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string Sha256::hex_digest() { return to_hex(raw_digest()); }

std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex_digest();
}

Result<std::string> sha256_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(errno == ENOENT ? Errc::not_found : Errc::io, "reading '{}': {}", path.string(),
                std::strerror(errno));
  }
  Sha256 h;
  std::unique_ptr<char[]> buf(new char[1 << 20]);
  for (;;) {
    ssize_t n = ::read(fd, buf.get(), 1 << 20);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      return fail(Errc::io, "reading '{}': {}", path.string(), std::strerror(err));
    }
    if (n == 0)
      break;
    h.update(buf.get(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return h.hex_digest();
}

void Transcript::add(std::string_view name, std::string_view value) {
  m_text += fmt::format("{}={}:", name, value.size());
  m_text += value;
  m_text += '\n';
}

}  // namespace binder::common::hash
