// Minimal S3 client for the registry bucket: the bucket lifecycle rule that aborts incomplete
// multipart uploads (mybinder's config/k3s/s3-bucket-lifecycle.json), signed with SigV4. Works
// with AWS and S3-compatible stores (Hetzner, OVH, Ceph RGW, MinIO): path-style addressing by
// default, virtual-host style for *.amazonaws.com endpoints (or when asked). The secret key is
// a log secret.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "firstboot/clients/api.hpp"
#include "firstboot/clients/sigv4.hpp"

namespace binder::firstboot::clients {

enum class S3Addressing { automatic, path, virtual_host };

struct S3Config {
  std::string endpoint;  // "https://nbg1.your-objectstorage.com" (no bucket)
  std::string region;    // signing region; "us-east-1" when the store does not care
  std::string bucket;
  std::string access_key;
  std::string secret_key;
  S3Addressing addressing = S3Addressing::automatic;
};

// The lifecycle document: one enabled rule "expiry" for every key that aborts incomplete
// multipart uploads after `days` days.
std::string lifecycle_xml(int days);
// True if `xml` (a GetBucketLifecycleConfiguration answer) has an enabled rule aborting
// incomplete multipart uploads after exactly `days` days for the whole bucket.
bool lifecycle_has_abort_rule(const std::string& xml, int days);

class S3 {
 public:
  using Now = std::function<std::chrono::system_clock::time_point()>;
  S3(S3Config config, common::http::Options http = {}, Now now = {});

  // GET ?lifecycle: the XML, or nullopt when the bucket has none (404
  // NoSuchLifecycleConfiguration). A missing bucket is an Errc::precondition error.
  Result<std::optional<std::string>> get_lifecycle();
  // PUT ?lifecycle with Content-MD5.
  Result<void> put_lifecycle(const std::string& xml);
  // GET, then PUT only if the abort rule is missing or different. Replaces other rules: the
  // bucket is the member's own registry bucket.
  Result<Change> ensure_abort_multipart(int days);

  // The signed request (exposed for tests): method on the bucket with `query`, `body`.
  common::http::Request signed_request(const std::string& method, const std::string& query,
                                       const std::string& body, std::vector<common::http::Header> extra = {});

 private:
  Error with_hint(Error e, const std::string& code) const;
  Result<common::http::Response> send(const common::http::Request& request);
  S3Config m_config;
  common::http::Client m_http;
  Now m_now;
};

}  // namespace binder::firstboot::clients
