// Cloudflare API v4 client for the member's DNS records: Bearer token, the v4 envelope
// ({success, errors, messages, result, result_info}) and page/per_page pagination. The converge
// call ensure_record() looks records up by type + exact name before it creates anything, so a
// rerun never duplicates a record (POST is not an upsert: several A records per name are valid).
// The token is registered as a log secret on construction.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "firstboot/clients/api.hpp"

namespace binder::firstboot::clients {

struct DnsRecord {
  std::string id;       // empty for a record to create
  std::string type;     // "A"
  std::string name;     // FQDN, "*.x.mybinder.org" for the wildcard
  std::string content;  // "203.0.113.7"
  bool proxied = false;
  int ttl = 1;  // 1 = automatic
  std::string comment;
};

class Cloudflare {
 public:
  // api_base: "https://api.cloudflare.com/client/v4" (tests: a fake's). Refuses plain http to
  // non-loopback hosts on first use.
  Cloudflare(std::string api_base, std::string token, common::http::Options http = {});

  // The id of the active zone named exactly `zone`; Errc::precondition if the token sees none
  // (the message names Zone:Zone:Read and dns.zone_id, which skips this lookup).
  Result<std::string> zone_id(const std::string& zone);
  // All records of `type` named exactly `name` (all pages).
  Result<std::vector<DnsRecord>> find_records(const std::string& zone_id, const std::string& type,
                                              const std::string& name);
  Result<DnsRecord> create_record(const std::string& zone_id, const DnsRecord& record);
  // Full overwrite (PUT) of record `id` with `record` (same type).
  Result<DnsRecord> replace_record(const std::string& zone_id, const std::string& id,
                                   const DnsRecord& record);
  Result<void> delete_record(const std::string& zone_id, const std::string& id);

  // Makes exactly one record of want.type at want.name with want's content, proxied and ttl:
  // creates it if missing, overwrites the first one found if it differs, deletes extra copies.
  Result<Change> ensure_record(const std::string& zone_id, const DnsRecord& want);

 private:
  // One API call; returns the envelope after checking success. `what` names it in errors. A 401/403
  // is explained in one line: an invalid token, or (token active) the permission the route needs.
  Result<Json> call(const std::string& method, const std::string& path, const Json* body);
  Error explain_denied(const std::string& method, const std::string& path, Error denied);

  std::string m_base;
  std::string m_token;
  common::http::Client m_http;
  std::map<std::string, std::string> m_zone_names;  // zone id -> name, from zone_id() (hints)
};

// The two records a member needs: <label>.<domain> and *.<label>.<domain> -> ip, proxied off.
std::vector<DnsRecord> member_records(const std::string& fqdn, const std::string& ip,
                                      const std::string& comment);

}  // namespace binder::firstboot::clients
