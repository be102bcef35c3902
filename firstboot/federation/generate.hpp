// Generators for the member's stable secrets (issue 5; member spec §2.3, harbor-helm 1.18.1
// constraints): random strings from OpenSSL RAND, the registry's bcrypt htpasswd line (libcrypt
// crypt_r "$2b$"), and Harbor's token signing key with its self-signed certificate. Pure
// functions: the secrets step records each value in the journal before anything uses it.
#pragma once

#include <string>
#include <utility>

#include "common/result.hpp"

namespace binder::firstboot::federation {

using common::Result;

// "<user>:<bcrypt of password, cost 10>"; Errc::internal if libcrypt lacks bcrypt.
Result<std::string> htpasswd_line(const std::string& user, const std::string& password);
// True if `line` is "<user>:<hash>" and the hash matches `password`.
bool htpasswd_matches(const std::string& line, const std::string& password);

struct TokenKeyPair {
  std::string key_pem;   // "-----BEGIN RSA PRIVATE KEY-----" (PKCS#1, what helm's genCA writes)
  std::string cert_pem;  // self-signed X.509 v3, CA:TRUE, signed by key_pem
};
// RSA key of `bits` and a certificate "CN=<cn>" valid for `days` days from now.
Result<TokenKeyPair> token_keypair(const std::string& cn, int bits = 2048, int days = 3650);
// True if cert_pem's public key belongs to key_pem.
bool keypair_matches(const TokenKeyPair& pair);

}  // namespace binder::firstboot::federation
