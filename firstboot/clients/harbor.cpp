// Harbor v2.0 client: health, projects, quotas, retention. Existence is checked with
// HEAD /projects?project_name= (GET ?name= is a substring match); projects are read by name with
// X-Is-Resource-Name so all-digit names work; a second retention POST for a project is a 400,
// so the policy id is taken from the project's metadata.retention_id (api-notes §2).
#include "firstboot/clients/harbor.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace binder::firstboot::clients {

namespace http = common::http;

std::string robot_full_name(const std::string& project, const std::string& name) {
  return "robot$" + project + "+" + name;
}

Json retention_policy(int project_id, int days) {
  auto rule = [&](const char* tmpl) {
    return Json{
        {"disabled", false},
        {"action", "retain"},
        {"template", tmpl},
        {"params", {{tmpl, days}}},
        {"scope_selectors",
         {{"repository", {{{"kind", "doublestar"}, {"decoration", "repoMatches"}, {"pattern", "**"}}}}}},
        {"tag_selectors",
         {{{"kind", "doublestar"},
           {"decoration", "matches"},
           {"pattern", "**"},
           {"extras", "{\"untagged\":false}"}}}}};
  };
  return Json{
      {"algorithm", "or"},
      {"scope", {{"level", "project"}, {"ref", project_id}}},
      {"trigger",
       {{"kind", "Schedule"}, {"references", Json::object()}, {"settings", {{"cron", "0 0 7 * * 6"}}}}},
      {"rules", {rule("nDaysSinceLastPull"), rule("nDaysSinceLastPush")}}};
}

bool json_subset(const Json& want, const Json& got) {
  if (want.is_object()) {
    if (!got.is_object())
      return false;
    for (auto it = want.begin(); it != want.end(); ++it) {
      if (!got.contains(it.key()) || !json_subset(it.value(), got[it.key()]))
        return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!got.is_array() || got.size() != want.size())
      return false;
    for (size_t i = 0; i < want.size(); ++i) {
      if (!json_subset(want[i], got[i]))
        return false;
    }
    return true;
  }
  return want == got;
}

Harbor::Harbor(std::string api_base, std::string user, std::string password, http::Options o)
    : m_base(std::move(api_base)), m_auth(basic_auth(user, password)), m_http(std::move(o)) {
  while (!m_base.empty() && m_base.back() == '/')
    m_base.pop_back();
  common::log::add_secret(password);
  common::log::add_secret(m_auth.substr(6));
}

Result<Harbor::Answer> Harbor::call(const std::string& method, const std::string& path, const Json* body,
                                    std::vector<int> accept, std::vector<http::Header> extra) {
  TRY(http::require_secure(m_base));
  std::string request_id = "binder-" + random_alnum(12);
  http::Request req{method,
                    m_base + path,
                    {{"Authorization", m_auth}, {"Accept", "application/json"}, {"X-Request-Id", request_id}},
                    ""};
  for (auto& h : extra)
    req.headers.push_back(std::move(h));
  if (body != nullptr) {
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = body->dump();
  }
  std::string what = fmt::format("Harbor {} {}", method, path.substr(0, path.find('?')));
  auto sent = m_http.send(req);
  if (!sent) {
    Error e = sent.error();
    e.hint = fmt::format(
        "Harbor at '{}' is unreachable: check that the registry host resolves to "
        "this VM and the harbor pods run",
        m_base);
    return std::unexpected(std::move(e));
  }
  http::Response resp = std::move(*sent);
  Answer a{resp.status, Json(), resp};
  bool ok = resp.status / 100 == 2 || std::find(accept.begin(), accept.end(), resp.status) != accept.end();
  if (!resp.body.empty() && method != "HEAD") {
    auto j = parse_json(resp.body, what);
    if (j)
      a.body = std::move(*j);
    else if (ok)
      return std::unexpected(j.error());
  }
  if (!ok) {
    std::string detail;
    if (a.body.is_object() && a.body.contains("errors") && !a.body["errors"].empty()) {
      detail = a.body["errors"][0].value("message", "");
    }
    detail += fmt::format(" (X-Request-Id {})", request_id);
    Error e = http_error(resp.status, what, detail);
    if (resp.status == 401) {
      e.hint = "Harbor refused the admin password the agent journaled (secrets.harbor-admin-password)";
    } else if (resp.status == 502 || resp.status == 503 || resp.status == 504) {
      e.hint = fmt::format("Harbor at '{}' is not up yet: check the harbor pods", m_base);
    }
    return std::unexpected(std::move(e));
  }
  return a;
}

Result<bool> Harbor::healthy() {
  TRY_ASSIGN(Answer a, call("GET", "/health", nullptr));
  return a.body.is_object() && a.body.value("status", "") == "healthy";
}

Result<std::optional<HarborProject>> Harbor::find_project(const std::string& name) {
  TRY_ASSIGN(Answer head,
             call("HEAD", "/projects?project_name=" + http::percent_encode(name), nullptr, {404}));
  if (head.status == 404) {
    return std::optional<HarborProject>{};
  }
  TRY_ASSIGN(Answer a, call("GET", "/projects/" + http::percent_encode(name), nullptr, {},
                            {{"X-Is-Resource-Name", "true"}}));
  HarborProject p;
  p.id = a.body.value("project_id", 0);
  p.name = a.body.value("name", name);
  if (a.body.contains("metadata") && a.body["metadata"].is_object()) {
    for (auto it = a.body["metadata"].begin(); it != a.body["metadata"].end(); ++it) {
      p.metadata[it.key()] = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    }
  }
  return std::optional<HarborProject>(std::move(p));
}

Result<HarborProject> Harbor::ensure_project(const std::string& name, std::int64_t quota_gb, Change& change) {
  std::int64_t bytes = quota_gb < 0 ? -1 : quota_gb * k_gib;
  change = Change::unchanged;
  TRY_ASSIGN(auto found, find_project(name));
  if (!found) {
    Json body = {
        {"project_name", name},
        {"storage_limit", bytes},
        {"metadata", {{"public", "false"}, {"auto_scan", "false"}, {"reuse_sys_cve_allowlist", "true"}}}};
    TRY_ASSIGN(Answer a, call("POST", "/projects", &body, {409}));
    if (a.status != 409) {
      change = Change::created;
      common::log::info("Harbor: created project '{}' (quota {} GiB)", name, quota_gb);
    }
    TRY_ASSIGN(found, find_project(name));
    if (!found) {
      return common::fail(Errc::network, "Harbor: project '{}' missing right after creation", name);
    }
  }
  TRY_ASSIGN(Change quota, ensure_quota(found->id, bytes));
  if (change == Change::unchanged)
    change = quota;
  return *found;
}

Result<Change> Harbor::ensure_quota(int project_id, std::int64_t bytes) {
  TRY_ASSIGN(Answer a,
             call("GET", fmt::format("/quotas?reference=project&reference_id={}", project_id), nullptr));
  if (!a.body.is_array() || a.body.empty()) {
    return common::fail(Errc::network, "Harbor: no quota for project {}", project_id);
  }
  const Json& q = a.body[0];
  std::int64_t have = q.contains("hard") ? q["hard"].value("storage", std::int64_t{-2}) : -2;
  if (have == bytes) {
    return Change::unchanged;
  }
  Json body = {{"hard", {{"storage", bytes}}}};
  TRY(call("PUT", fmt::format("/quotas/{}", q.value("id", 0)), &body));
  common::log::info("Harbor: quota of project {} set to {} bytes (was {})", project_id, bytes, have);
  return Change::updated;
}

Result<Change> Harbor::ensure_retention(const HarborProject& project, const Json& policy) {
  auto rid = project.metadata.find("retention_id");
  if (rid == project.metadata.end() || rid->second.empty() || rid->second == "0") {
    TRY_ASSIGN(Answer a, call("POST", "/retentions", &policy, {400}));
    if (a.status == 201 || a.status == 200) {
      common::log::info("Harbor: created the retention policy of '{}'", project.name);
      return Change::created;
    }
    // 400 "already has retention policy": someone made it since we read the project.
    TRY_ASSIGN(auto fresh, find_project(project.name));
    if (!fresh || !fresh->metadata.contains("retention_id")) {
      return std::unexpected(
          http_error(400, "Harbor POST /retentions", a.body.is_object() ? a.body.dump() : ""));
    }
    return ensure_retention(*fresh, policy);
  }
  TRY_ASSIGN(Answer got, call("GET", "/retentions/" + rid->second, nullptr));
  if (json_subset(policy, got.body)) {
    return Change::unchanged;
  }
  Json body = policy;
  body["id"] = std::stoi(rid->second);
  TRY(call("PUT", "/retentions/" + rid->second, &body));
  common::log::info("Harbor: updated the retention policy of '{}'", project.name);
  return Change::updated;
}

}  // namespace binder::firstboot::clients
