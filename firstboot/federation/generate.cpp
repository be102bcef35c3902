// Secret generators: bcrypt via libxcrypt (crypt_gensalt_rn + crypt_r, both reentrant; the static
// binary links libcrypt.a), RSA + X.509 via OpenSSL 3 EVP/X509 APIs.
#include "firstboot/federation/generate.hpp"

#include <crypt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace binder::firstboot::federation {

using common::Errc;
using common::fail;

Result<std::string> htpasswd_line(const std::string& user, const std::string& password) {
  unsigned char rbytes[16];
  if (RAND_bytes(rbytes, sizeof rbytes) != 1) {
    return fail(Errc::internal, "RAND_bytes failed");
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", 10, reinterpret_cast<const char*>(rbytes), sizeof rbytes, setting,
                       sizeof setting) == nullptr) {
    return fail(Errc::internal, "libcrypt cannot make a bcrypt salt: {}", std::strerror(errno));
  }
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* hash = crypt_r(password.c_str(), setting, data.get());
  if (hash == nullptr || hash[0] == '*') {
    return fail(Errc::internal, "libcrypt bcrypt failed");
  }
  return user + ":" + hash;
}

bool htpasswd_matches(const std::string& line, const std::string& password) {
  auto colon = line.find(':');
  if (colon == std::string::npos)
    return false;
  std::string hash = line.substr(colon + 1);
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* again = crypt_r(password.c_str(), hash.c_str(), data.get());
  return again != nullptr && hash == again;
}

namespace {

struct Freer {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

bool add_ext(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr)
    return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

Result<TokenKeyPair> token_keypair(const std::string& cn, int bits, int days) {
  std::unique_ptr<EVP_PKEY, Freer> key(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!key)
    return fail(Errc::internal, "generating an RSA key failed");
  std::unique_ptr<X509, Freer> cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  if (!add_ext(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign") ||
      !add_ext(cert.get(), NID_subject_key_identifier, "hash")) {
    return fail(Errc::internal, "adding X.509 extensions failed");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return fail(Errc::internal, "signing the token certificate failed");
  }
  std::unique_ptr<BIO, Freer> kb(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, Freer> cb(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey_traditional(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(cb.get(), cert.get()) != 1) {
    return fail(Errc::internal, "writing PEM failed");
  }
  return TokenKeyPair{bio_text(kb.get()), bio_text(cb.get())};
}

bool keypair_matches(const TokenKeyPair& pair) {
  std::unique_ptr<BIO, Freer> kb(BIO_new_mem_buf(pair.key_pem.data(), static_cast<int>(pair.key_pem.size())));
  std::unique_ptr<BIO, Freer> cb(
      BIO_new_mem_buf(pair.cert_pem.data(), static_cast<int>(pair.cert_pem.size())));
  std::unique_ptr<EVP_PKEY, Freer> key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  std::unique_ptr<X509, Freer> cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  return key && cert && X509_check_private_key(cert.get(), key.get()) == 1 &&
         X509_verify(cert.get(), key.get()) == 1;
}

}  // namespace binder::firstboot::federation
