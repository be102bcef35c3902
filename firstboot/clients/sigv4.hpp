// AWS Signature Version 4 (HMAC-SHA256 with OpenSSL) for the S3 client: canonical request,
// string to sign, signing key and the Authorization header or a presigned query. Pure functions
// of their inputs (the time is passed in), so the AWS test suites in shared/reference/sigv4 check
// them byte for byte. S3 signs paths as given (normalize_path = false) and URI-encodes each
// segment once; other services remove dot segments and duplicate slashes first.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/http.hpp"

namespace binder::firstboot::clients::sigv4 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // never logged
  std::string session_token;      // optional (STS)
};

struct Scope {
  std::string region;   // "us-east-1"
  std::string service;  // "s3"
};

// What is signed. Headers are signed exactly as listed (names case-insensitive, repeated
// names joined with ','); the caller must send the same headers.
struct Input {
  std::string method;
  std::string path;   // raw path, not yet percent-encoded ("/bucket/key")
  std::string query;  // raw query without '?' ("lifecycle", "a=1&b=%2F"), may be empty
  std::vector<common::http::Header> headers;
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct Options {
  bool normalize_path = true;       // false for S3
  bool sign_body_header = false;    // add and sign x-amz-content-sha256 (S3 requires it)
  bool omit_session_token = false;  // add X-Amz-Security-Token after signing (some services)
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;   // "host;x-amz-date"
  std::string signature;        // lower-case hex
  std::string authorization;    // header mode: the Authorization value
  std::string presigned_query;  // query mode: the full query to send (original + X-Amz-*)
};

// "20150830T123600Z" for a point in time (UTC).
std::string amz_date(std::chrono::system_clock::time_point when);

std::string canonical_uri(const std::string& path, bool normalize);
std::string canonical_query(const std::string& query);
// Headers "name:value\n..." sorted by name, and the signed-headers list.
std::pair<std::string, std::string> canonical_headers(const std::vector<common::http::Header>& h);

// Signs `in` as it is (its headers must already carry X-Amz-Date etc.), at `amz_date`.
Signature sign_prepared(const Input& in, const Credentials& creds, const Scope& scope,
                        const std::string& amz_date, bool normalize_path);

// Header signing: adds X-Amz-Date, x-amz-content-sha256 (sign_body_header) and
// X-Amz-Security-Token to in.headers, signs, and appends the Authorization header.
Signature sign_headers(Input& in, const Credentials& creds, const Scope& scope, const std::string& amz_date,
                       const Options& options = {});

// Query signing (presigned URL): adds the X-Amz-* parameters to in.query, signs, and returns
// Signature::presigned_query = in.query + "&X-Amz-Signature=...".
Signature presign(Input& in, const Credentials& creds, const Scope& scope, const std::string& amz_date,
                  int expires_seconds, const Options& options = {});

// HMAC-SHA256 (raw bytes) and the derived signing key (raw), exposed for tests.
std::string hmac_sha256(const std::string& key, const std::string& data);
std::string signing_key(const std::string& secret, const std::string& date, const Scope& scope);

}  // namespace binder::firstboot::clients::sigv4
