// S3 bucket lifecycle over SigV4 (header signing, x-amz-content-sha256 signed, S3 paths not
// normalized). PutBucketLifecycleConfiguration requires an integrity header: Content-MD5 is the
// one every S3-compatible store understands (x-amz-checksum-* came later).
#include "firstboot/clients/s3.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include "common/hash.hpp"
#include "common/log.hpp"

namespace binder::firstboot::clients {

namespace http = common::http;

namespace {

std::string md5_base64(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  return base64(std::string(reinterpret_cast<char*>(md), len));
}

std::string strip_ws(const std::string& s) {
  std::string out;
  std::copy_if(s.begin(), s.end(), std::back_inserter(out),
               [](char c) { return c != ' ' && c != '\n' && c != '\r' && c != '\t'; });
  return out;
}

std::string xml_error_code(const std::string& body) {
  auto b = body.find("<Code>");
  auto e = body.find("</Code>");
  return b != std::string::npos && e != std::string::npos && e > b ? body.substr(b + 6, e - b - 6) : "";
}

}  // namespace

std::string lifecycle_xml(int days) {
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Rule><ID>expiry</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>"
      "<AbortIncompleteMultipartUpload><DaysAfterInitiation>{}</DaysAfterInitiation>"
      "</AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>",
      days);
}

bool lifecycle_has_abort_rule(const std::string& xml, int days) {
  std::string s = strip_ws(xml);
  std::string abort = fmt::format(
      "<AbortIncompleteMultipartUpload><DaysAfterInitiation>{}</DaysAfterInitiation>"
      "</AbortIncompleteMultipartUpload>",
      days);
  size_t pos = 0;
  while ((pos = s.find("<Rule>", pos)) != std::string::npos) {
    size_t end = s.find("</Rule>", pos);
    if (end == std::string::npos)
      break;
    std::string rule = s.substr(pos, end - pos);
    bool whole_bucket = rule.find("<Prefix>") == std::string::npos ||
                        rule.find("<Prefix></Prefix>") != std::string::npos ||
                        rule.find("<Prefix/>") != std::string::npos;
    if (rule.find(abort) != std::string::npos && rule.find("<Status>Enabled</Status>") != std::string::npos &&
        whole_bucket) {
      return true;
    }
    pos = end;
  }
  return false;
}

S3::S3(S3Config config, http::Options options, Now now)
    : m_config(std::move(config)), m_http(std::move(options)), m_now(std::move(now)) {
  if (!m_now)
    m_now = [] { return std::chrono::system_clock::now(); };
  while (!m_config.endpoint.empty() && m_config.endpoint.back() == '/')
    m_config.endpoint.pop_back();
  if (m_config.region.empty())
    m_config.region = "us-east-1";
  common::log::add_secret(m_config.secret_key);
}

http::Request S3::signed_request(const std::string& method, const std::string& query, const std::string& body,
                                 std::vector<http::Header> extra) {
  auto url = http::parse_url(m_config.endpoint + "/").value_or(http::Url{"https", "", 443, "/"});
  bool virtual_host = m_config.addressing == S3Addressing::virtual_host ||
                      (m_config.addressing == S3Addressing::automatic && url.host.ends_with("amazonaws.com"));
  std::string host = http::host_header(url);
  std::string path = "/" + m_config.bucket;
  if (virtual_host) {
    host = m_config.bucket + "." + host;
    path = "/";
  }
  sigv4::Input in;
  in.method = method;
  in.path = path;
  in.query = query;
  in.headers = {{"Host", host}};
  for (auto& h : extra)
    in.headers.push_back(std::move(h));
  in.payload_hash = common::hash::sha256_hex(body);
  sigv4::Options opts;
  opts.normalize_path = false;
  opts.sign_body_header = true;
  sigv4::sign_headers(in, {m_config.access_key, m_config.secret_key, ""}, {m_config.region, "s3"},
                      sigv4::amz_date(m_now()), opts);
  std::string base = virtual_host ? fmt::format("{}://{}", url.scheme, host) : m_config.endpoint;
  std::string target = http::percent_encode(path, true) + (query.empty() ? "" : "?" + query);
  return http::Request{method, base + target, std::move(in.headers), body};
}

// What to do about a failed S3 call (one line for the console): unreachable endpoint, keys,
// permissions, bucket.
Error S3::with_hint(Error e, const std::string& code) const {
  const S3Config& c = m_config;
  if (code.empty() && (e.code == Errc::network || e.code == Errc::temporary) &&
      e.message.find("HTTP ") == std::string::npos) {
    e.hint = fmt::format("the VM cannot reach registry.s3.endpoint '{}': check the URL, DNS and firewall",
                         c.endpoint);
  } else if (code == "InvalidAccessKeyId") {
    e.hint = fmt::format("'{}' does not know registry.s3.access_key: check the key", c.endpoint);
  } else if (code == "SignatureDoesNotMatch") {
    e.hint = fmt::format("registry.s3.secret_key does not match the access key (or region '{}' is wrong)",
                         c.region);
  } else if (code == "AccessDenied") {
    e.hint = fmt::format(
        "the S3 key needs s3:GetLifecycleConfiguration and s3:PutLifecycleConfiguration "
        "on bucket '{}'",
        c.bucket);
  } else if (code == "NoSuchBucket") {
    e.hint = fmt::format("create bucket '{}' at '{}' or fix registry.s3.bucket", c.bucket, c.endpoint);
  }
  return e;
}

Result<http::Response> S3::send(const http::Request& request) {
  auto resp = m_http.send(request);
  if (!resp)
    return std::unexpected(with_hint(resp.error(), ""));
  return resp;
}

Result<std::optional<std::string>> S3::get_lifecycle() {
  TRY(http::require_secure(m_config.endpoint));
  TRY_ASSIGN(http::Response resp, send(signed_request("GET", "lifecycle", "")));
  if (resp.status == 200) {
    return std::optional<std::string>(resp.body);
  }
  std::string code = xml_error_code(resp.body);
  if (resp.status == 404 && code == "NoSuchLifecycleConfiguration") {
    return std::optional<std::string>{};
  }
  Error e = http_error(resp.status, fmt::format("S3 GET bucket '{}' lifecycle", m_config.bucket), code);
  if (code == "NoSuchBucket")
    e.code = Errc::precondition;
  return std::unexpected(with_hint(std::move(e), code));
}

Result<void> S3::put_lifecycle(const std::string& xml) {
  TRY(http::require_secure(m_config.endpoint));
  auto req = signed_request("PUT", "lifecycle", xml,
                            {{"Content-MD5", md5_base64(xml)}, {"Content-Type", "application/xml"}});
  TRY_ASSIGN(http::Response resp, send(req));
  if (resp.status / 100 != 2) {
    std::string code = xml_error_code(resp.body);
    return std::unexpected(with_hint(
        http_error(resp.status, fmt::format("S3 PUT bucket '{}' lifecycle", m_config.bucket), code), code));
  }
  return {};
}

Result<Change> S3::ensure_abort_multipart(int days) {
  TRY_ASSIGN(auto current, get_lifecycle());
  if (current && lifecycle_has_abort_rule(*current, days)) {
    return Change::unchanged;
  }
  TRY(put_lifecycle(lifecycle_xml(days)));
  common::log::info("S3: bucket '{}' aborts incomplete multipart uploads after {} day(s)", m_config.bucket,
                    days);
  return current ? Change::updated : Change::created;
}

}  // namespace binder::firstboot::clients
