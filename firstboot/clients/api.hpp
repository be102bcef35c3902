// Shared bits of the vendor API clients (Cloudflare, Harbor, S3): what a converge call did, JSON
// parsing that never throws, and the mapping of a failed HTTP answer to our error codes (429 and
// 5xx after the HTTP client's retries are Errc::temporary so firstboot exits 75 and retries later;
// 401/403 are Errc::precondition: a wrong token or password does not heal by waiting).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/http.hpp"
#include "common/result.hpp"

namespace binder::firstboot::clients {

using common::Errc;
using common::Error;
using common::Result;
using Json = nlohmann::json;

enum class Change { unchanged, created, updated };
const char* to_string(Change c);

// Parses `text` as JSON; an error names `what` ("Cloudflare response to GET /zones").
Result<Json> parse_json(std::string_view text, std::string_view what);

// The error for a non-2xx answer: code from the status as above, message "<what>: HTTP <status>:
// <detail>".
Error http_error(int status, std::string_view what, std::string_view detail);

// Basic auth header value "Basic base64(user:password)".
std::string basic_auth(std::string_view user, std::string_view password);
std::string base64(std::string_view bytes);

// `n` characters from [A-Za-z0-9] drawn with OpenSSL RAND_bytes (rejection sampling, no bias).
// Aborts only if the CSPRNG fails, which OpenSSL reports as unrecoverable.
std::string random_alnum(size_t n);

}  // namespace binder::firstboot::clients
