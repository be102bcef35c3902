// AWS SigV4 as specified in "Create a canonical request for Signature Version 4" (AWS IAM user
// guide) and checked by aws-c-auth's aws-signing-test-suite: strict RFC 3986 encoding with
// upper-case hex, query parameters decoded and re-encoded then sorted by name and value, header
// values trimmed with inner whitespace runs collapsed, repeated headers joined with ','.
#include "firstboot/clients/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "common/hash.hpp"

namespace binder::firstboot::clients::sigv4 {

using common::http::percent_encode;
namespace hash = common::hash;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Trims and collapses runs of whitespace (including folded line breaks) to one space.
std::string normalize_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
    } else {
      if (space) {
        out += ' ';
      }
      space = false;
      out += c;
    }
  }
  return out;
}

std::string credential_scope(const std::string& amz_date, const Scope& scope) {
  return amz_date.substr(0, 8) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

void finish(Signature& sig, const Credentials& creds, const Scope& scope, const std::string& amz_date) {
  sig.string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + credential_scope(amz_date, scope) + "\n" +
                       hash::sha256_hex(sig.canonical_request);
  std::string key = signing_key(creds.secret_access_key, amz_date.substr(0, 8), scope);
  sig.signature = hash::to_hex(hmac_sha256(key, sig.string_to_sign));
}

}  // namespace

std::string amz_date(std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string canonical_uri(const std::string& path, bool normalize) {
  std::string p = path.empty() ? "/" : path;
  if (normalize) {
    std::vector<std::string> segs;
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find('/', start);
      if (end == std::string::npos)
        end = p.size();
      std::string seg = p.substr(start, end - start);
      if (seg == "..") {
        if (!segs.empty())
          segs.pop_back();
      } else if (!seg.empty() && seg != ".") {
        segs.push_back(seg);
      }
      start = end + 1;
    }
    std::string out;
    for (const auto& s : segs)
      out += "/" + s;
    if (out.empty() || (p.back() == '/' && !segs.empty()))
      out += "/";
    p = out;
  }
  return percent_encode(p, true);
}

std::string canonical_query(const std::string& query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos)
      end = query.size();
    std::string_view item(query.data() + start, end - start);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string k(item.substr(0, eq));
      std::string v(eq == std::string_view::npos ? "" : item.substr(eq + 1));
      params.emplace_back(percent_encode(percent_decode(k)), percent_encode(percent_decode(v)));
    }
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty())
      out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::pair<std::string, std::string> canonical_headers(const std::vector<common::http::Header>& h) {
  std::map<std::string, std::string> merged;
  for (const auto& header : h) {
    std::string name = lower(header.name);
    std::string value = normalize_value(header.value);
    auto [it, inserted] = merged.emplace(name, value);
    if (!inserted) {
      it->second += "," + value;
    }
  }
  std::string text;
  std::string names;
  for (const auto& [name, value] : merged) {
    text += name + ":" + value + "\n";
    names += (names.empty() ? "" : ";") + name;
  }
  return {text, names};
}

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string signing_key(const std::string& secret, const std::string& date, const Scope& scope) {
  std::string k = hmac_sha256("AWS4" + secret, date);
  k = hmac_sha256(k, scope.region);
  k = hmac_sha256(k, scope.service);
  return hmac_sha256(k, "aws4_request");
}

Signature sign_prepared(const Input& in, const Credentials& creds, const Scope& scope,
                        const std::string& date, bool normalize_path) {
  Signature sig;
  auto [headers, names] = canonical_headers(in.headers);
  sig.signed_headers = names;
  sig.canonical_request = in.method + "\n" + canonical_uri(in.path, normalize_path) + "\n" +
                          canonical_query(in.query) + "\n" + headers + "\n" + names + "\n" + in.payload_hash;
  finish(sig, creds, scope, date);
  sig.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" +
                      credential_scope(date, scope) + ", SignedHeaders=" + names +
                      ", Signature=" + sig.signature;
  return sig;
}

Signature sign_headers(Input& in, const Credentials& creds, const Scope& scope, const std::string& date,
                       const Options& options) {
  in.headers.push_back({"X-Amz-Date", date});
  if (options.sign_body_header) {
    in.headers.push_back({"x-amz-content-sha256", in.payload_hash});
  }
  bool token = !creds.session_token.empty();
  if (token && !options.omit_session_token) {
    in.headers.push_back({"X-Amz-Security-Token", creds.session_token});
  }
  Signature sig = sign_prepared(in, creds, scope, date, options.normalize_path);
  if (token && options.omit_session_token) {
    in.headers.push_back({"X-Amz-Security-Token", creds.session_token});
  }
  in.headers.push_back({"Authorization", sig.authorization});
  return sig;
}

Signature presign(Input& in, const Credentials& creds, const Scope& scope, const std::string& date,
                  int expires_seconds, const Options& options) {
  auto [headers, names] = canonical_headers(in.headers);
  std::string add = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" +
                    percent_encode(creds.access_key_id + "/" + credential_scope(date, scope)) +
                    "&X-Amz-Date=" + date + "&X-Amz-Expires=" + std::to_string(expires_seconds) +
                    "&X-Amz-SignedHeaders=" + percent_encode(names);
  bool token = !creds.session_token.empty();
  std::string token_param = "X-Amz-Security-Token=" + percent_encode(creds.session_token);
  if (token && !options.omit_session_token) {
    add += "&" + token_param;
  }
  in.query = in.query.empty() ? add : in.query + "&" + add;
  Signature sig;
  sig.signed_headers = names;
  sig.canonical_request = in.method + "\n" + canonical_uri(in.path, options.normalize_path) + "\n" +
                          canonical_query(in.query) + "\n" + headers + "\n" + names + "\n" + in.payload_hash;
  finish(sig, creds, scope, date);
  if (token && options.omit_session_token) {
    in.query += "&" + token_param;
  }
  sig.presigned_query = in.query + "&X-Amz-Signature=" + sig.signature;
  return sig;
}

}  // namespace binder::firstboot::clients::sigv4
