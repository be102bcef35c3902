// The OpenSSL client context of the HTTP client: which CAs are trusted and which client
// certificate is presented. Peer verification is always on; the hostname/IP check is set per
// connection (http_conn.cpp).
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>

#include "common/http_internal.hpp"

namespace binder::common::http {

Client::Tls::~Tls() {
  if (ctx != nullptr) {
    SSL_CTX_free(ctx);
  }
}

namespace detail {
namespace {

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) {
      out += "; ";
    }
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr mem_bio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

Result<void> add_ca_pem(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio = mem_bio(pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
    ++added;
  }
  ERR_clear_error();  // the loop ends with a "no start line" error
  if (added == 0) {
    return fail(Errc::precondition, "the CA PEM data holds no certificate");
  }
  return {};
}

Result<void> use_client_pem(SSL_CTX* ctx, const std::string& cert_pem, const std::string& key_pem) {
  BioPtr cbio = mem_bio(cert_pem);
  X509* cert = PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr);
  if (cert == nullptr) {
    return fail(Errc::precondition, "reading the client certificate PEM: {}", openssl_errors());
  }
  int ok = SSL_CTX_use_certificate(ctx, cert);
  X509_free(cert);
  if (ok != 1) {
    return fail(Errc::precondition, "using the client certificate: {}", openssl_errors());
  }
  // Intermediate certificates following the leaf.
  while (X509* extra = PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr)) {
    SSL_CTX_add0_chain_cert(ctx, extra);
  }
  ERR_clear_error();
  BioPtr kbio = mem_bio(key_pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    return fail(Errc::precondition, "reading the client key PEM: {}", openssl_errors());
  }
  ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1) {
    return fail(Errc::precondition, "using the client key: {}", openssl_errors());
  }
  return {};
}

Result<void> configure(SSL_CTX* ctx, const Options& o) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // Servers closing with Connection: close often skip close_notify; framing is checked above.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);

  if (!o.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1) {
      return fail(Errc::precondition, "loading the CA file '{}': {}", o.ca_file.string(), openssl_errors());
    }
  }
  if (!o.ca_pem.empty()) {
    TRY_CTX(add_ca_pem(ctx, o.ca_pem), "loading the CA certificates");
  }
  if ((o.ca_file.empty() && o.ca_pem.empty()) || o.also_system_cas) {
    SSL_CTX_set_default_verify_paths(ctx);
    // The static binary's compiled-in OPENSSLDIR may not exist on the target distribution;
    // the Debian/Ubuntu bundle is the usual place.
    std::error_code ec;
    const char* bundle = "/etc/ssl/certs/ca-certificates.crt";
    if (std::filesystem::exists(bundle, ec)) {
      SSL_CTX_load_verify_locations(ctx, bundle, nullptr);
    }
    ERR_clear_error();
  }

  if (!o.client_cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, o.client_cert_file.c_str()) != 1) {
      return fail(Errc::precondition, "loading the client certificate '{}': {}", o.client_cert_file.string(),
                  openssl_errors());
    }
    const auto& key = o.client_key_file.empty() ? o.client_cert_file : o.client_key_file;
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fail(Errc::precondition, "loading the client key '{}': {}", key.string(), openssl_errors());
    }
  } else if (!o.client_cert_pem.empty()) {
    if (o.client_key_pem.empty()) {
      return fail(Errc::precondition, "a client certificate PEM was given without its key");
    }
    TRY(use_client_pem(ctx, o.client_cert_pem, o.client_key_pem));
  }
  if (SSL_CTX_get0_certificate(ctx) != nullptr && SSL_CTX_check_private_key(ctx) != 1) {
    return fail(Errc::precondition, "the client key does not match the client certificate");
  }
  return {};
}

}  // namespace

Result<SSL_CTX*> make_ssl_ctx(const Options& options) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    return fail(Errc::internal, "creating the TLS context: {}", openssl_errors());
  }
  auto r = configure(ctx, options);
  if (!r) {
    SSL_CTX_free(ctx);
    return std::unexpected(r.error());
  }
  return ctx;
}

bool is_retriable(const Error& e) {
  return e.code == Errc::network && !e.message.starts_with(k_verify_failed_prefix);
}

}  // namespace detail
}  // namespace binder::common::http
