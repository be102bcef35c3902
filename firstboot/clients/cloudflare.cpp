// Cloudflare v4 DNS client. Find before create; a create answered with 81057/81058 ("record
// already exists", a race or an eventually-consistent list) re-lists instead of failing.
// Pagination loops until page >= total_pages, or count < per_page when total_pages is absent
// (api-notes §1).
#include "firstboot/clients/cloudflare.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace binder::firstboot::clients {

namespace http = common::http;

namespace {

DnsRecord from_json(const Json& j) {
  DnsRecord r;
  r.id = j.value("id", "");
  r.type = j.value("type", "");
  r.name = j.value("name", "");
  r.content = j.value("content", "");
  r.proxied = j.value("proxied", false);
  r.ttl = j.value("ttl", 1);
  if (j.contains("comment") && j["comment"].is_string()) {
    r.comment = j["comment"];
  }
  return r;
}

Json to_json(const DnsRecord& r) {
  Json j = {
      {"type", r.type}, {"name", r.name}, {"content", r.content}, {"proxied", r.proxied}, {"ttl", r.ttl}};
  if (!r.comment.empty()) {
    j["comment"] = r.comment;
  }
  return j;
}

bool same(const DnsRecord& a, const DnsRecord& b) {
  return a.content == b.content && a.proxied == b.proxied && (a.proxied || a.ttl == b.ttl);
}

std::string first_error(const Json& env) {
  if (env.contains("errors") && env["errors"].is_array() && !env["errors"].empty()) {
    const Json& e = env["errors"][0];
    return fmt::format("{} {}", e.value("code", 0), e.value("message", ""));
  }
  return "";
}

bool has_error_code(const Error& e, std::initializer_list<int> codes) {
  for (int c : codes) {
    if (e.message.find(fmt::format(": {} ", c)) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// The token permission an API route needs (x-cfPermissionsRequired in cloudflare-dns.openapi.json),
// named as the dashboard's token editor shows it, with the schema's name. Empty: none declared.
std::string required_permission(const std::string& method, const std::string& path) {
  std::string p = path.substr(0, path.find('?'));
  if (p.find("/dns_records") != std::string::npos) {
    return method == "GET" ? "Zone:DNS:Read (#dns_records:read)" : "Zone:DNS:Edit (#dns_records:edit)";
  }
  if (p.starts_with("/zones/"))
    return "Zone:Zone:Read (#zone:read)";
  return "";
}

}  // namespace

Cloudflare::Cloudflare(std::string api_base, std::string token, http::Options options)
    : m_base(std::move(api_base)), m_token(std::move(token)), m_http(std::move(options)) {
  while (!m_base.empty() && m_base.back() == '/') {
    m_base.pop_back();
  }
  common::log::add_secret(m_token);
}

Result<Json> Cloudflare::call(const std::string& method, const std::string& path, const Json* body) {
  TRY(http::require_secure(m_base));
  http::Request req{method, m_base + path, {{"Authorization", "Bearer " + m_token}}, ""};
  if (body != nullptr) {
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = body->dump();
  }
  std::string what = fmt::format("Cloudflare {} {}", method, path.substr(0, path.find('?')));
  TRY_ASSIGN(http::Response resp, m_http.send(req));
  TRY_ASSIGN(Json env, parse_json(resp.body, what));
  if (resp.status / 100 != 2 || !env.is_object() || !env.value("success", false)) {
    Error e = http_error(resp.status, what, first_error(env));
    if ((resp.status == 401 || resp.status == 403) && path != "/user/tokens/verify") {
      return std::unexpected(explain_denied(method, path, std::move(e)));
    }
    return std::unexpected(std::move(e));
  }
  return env;
}

// Cloudflare answers a missing permission like a bad token (403, code 10000 "Authentication
// error"); the token's own status tells the two apart.
Error Cloudflare::explain_denied(const std::string& method, const std::string& path, Error denied) {
  auto verify = call("GET", "/user/tokens/verify", nullptr);
  std::string status = verify && verify->contains("result") && (*verify)["result"].is_object()
                           ? (*verify)["result"].value("status", "")
                           : "";
  if (status != "active") {
    denied.message = fmt::format("Cloudflare: the API token is not valid{} ({})",
                                 status.empty() ? "" : fmt::format(" (status '{}')", status), denied.message);
    denied.hint =
        "create a Cloudflare API token with Zone:DNS:Edit and Zone:Zone:Read on the zone "
        "and put it in dns.api_token";
    return denied;
  }
  std::string perm = required_permission(method, path);
  if (!perm.empty()) {
    denied.message = fmt::format("Cloudflare: the API token lacks the permission {} on this zone ({})", perm,
                                 denied.message);
    // "/zones/<id>/dns_records": name the zone when zone_id() looked it up.
    std::string zone = "dns.zone";
    if (path.starts_with("/zones/")) {
      std::string id = path.substr(7, path.find_first_of("/?", 7) - 7);
      if (auto it = m_zone_names.find(id); it != m_zone_names.end())
        zone = "'" + it->second + "'";
    }
    denied.hint = fmt::format("the token needs {} on zone {}", perm.substr(0, perm.find(' ')), zone);
  }
  return denied;
}

Result<std::string> Cloudflare::zone_id(const std::string& zone) {
  TRY_ASSIGN(Json env, call("GET", "/zones?name=" + http::percent_encode(zone) + "&status=active", nullptr));
  const Json& result = env["result"];
  for (const auto& z : result) {
    if (z.value("name", "") == zone) {
      m_zone_names[z.value("id", "")] = zone;
      return z.value("id", "");
    }
  }
  // A token without Zone:Zone:Read lists no zones at all, as if the zone did not exist.
  auto e = common::fail(Errc::precondition,
                        "Cloudflare: the API token does not see an active zone '{}': give it the permission "
                        "Zone:Zone:Read (#zone:read) on that zone, or set dns.zone_id in the metadata",
                        zone);
  e.error().hint = fmt::format("the token needs Zone:Zone:Read on zone '{}' (or set dns.zone_id)", zone);
  return e;
}

Result<std::vector<DnsRecord>> Cloudflare::find_records(const std::string& zone_id, const std::string& type,
                                                        const std::string& name) {
  std::vector<DnsRecord> out;
  constexpr int k_per_page = 100;
  for (int page = 1;; ++page) {
    std::string path = fmt::format("/zones/{}/dns_records?type={}&name={}&page={}&per_page={}", zone_id, type,
                                   http::percent_encode(name), page, k_per_page);
    TRY_ASSIGN(Json env, call("GET", path, nullptr));
    int count = 0;
    for (const auto& r : env["result"]) {
      DnsRecord rec = from_json(r);
      // Names compare case-insensitively; the filter is exact, this guards older servers.
      if (rec.type == type && common::http::percent_encode(rec.name) == http::percent_encode(name)) {
        out.push_back(std::move(rec));
      }
      ++count;
    }
    const Json info = env.value("result_info", Json::object());
    if (info.contains("total_pages")) {
      if (page >= info.value("total_pages", 1)) {
        break;
      }
    } else if (count < info.value("per_page", k_per_page)) {
      break;
    }
    if (page > 1000) {
      return common::fail(Errc::network, "Cloudflare: runaway pagination listing '{}'", name);
    }
  }
  return out;
}

Result<DnsRecord> Cloudflare::create_record(const std::string& zone_id, const DnsRecord& record) {
  Json body = to_json(record);
  TRY_ASSIGN(Json env, call("POST", fmt::format("/zones/{}/dns_records", zone_id), &body));
  return from_json(env["result"]);
}

Result<DnsRecord> Cloudflare::replace_record(const std::string& zone_id, const std::string& id,
                                             const DnsRecord& record) {
  Json body = to_json(record);
  TRY_ASSIGN(Json env, call("PUT", fmt::format("/zones/{}/dns_records/{}", zone_id, id), &body));
  return from_json(env["result"]);
}

Result<void> Cloudflare::delete_record(const std::string& zone_id, const std::string& id) {
  TRY(call("DELETE", fmt::format("/zones/{}/dns_records/{}", zone_id, id), nullptr));
  return {};
}

Result<Change> Cloudflare::ensure_record(const std::string& zone_id, const DnsRecord& want) {
  TRY_ASSIGN(auto found, find_records(zone_id, want.type, want.name));
  if (found.empty()) {
    auto created = create_record(zone_id, want);
    if (created) {
      common::log::info("DNS: created {} {} -> {}", want.type, want.name, want.content);
      return Change::created;
    }
    if (!has_error_code(created.error(), {81057, 81058})) {
      return std::unexpected(created.error());
    }
    TRY_ASSIGN(found, find_records(zone_id, want.type, want.name));
    if (found.empty()) {
      return std::unexpected(created.error());
    }
  }
  // Keep the copy that is already right, if any; delete the others.
  auto keep = std::find_if(found.begin(), found.end(), [&](const auto& r) { return same(r, want); });
  if (keep == found.end()) {
    keep = found.begin();
  }
  Change change = Change::unchanged;
  for (auto it = found.begin(); it != found.end(); ++it) {
    if (it != keep) {
      TRY(delete_record(zone_id, it->id));
      common::log::info("DNS: deleted duplicate {} {} -> {}", it->type, it->name, it->content);
      change = Change::updated;
    }
  }
  if (!same(*keep, want)) {
    TRY(replace_record(zone_id, keep->id, want));
    common::log::info("DNS: updated {} {}: {} -> {}", want.type, want.name, keep->content, want.content);
    change = Change::updated;
  }
  return change;
}

std::vector<DnsRecord> member_records(const std::string& fqdn, const std::string& ip,
                                      const std::string& comment) {
  return {DnsRecord{"", "A", fqdn, ip, false, 1, comment},
          DnsRecord{"", "A", "*." + fqdn, ip, false, 1, comment}};
}

}  // namespace binder::firstboot::clients
