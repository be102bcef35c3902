// DNS and Harbor request bodies, as mybinder's Terraform provider and runbook define them.
#include "firstboot/render/api_requests.hpp"

#include "firstboot/render/charts.hpp"

namespace binder::firstboot::render {

using nlohmann::json;

std::string dns_zone(const Member& member) {
  return member.dns && !member.dns->zone.empty() ? member.dns->zone : member.domain;
}

json dns_records(const Member& member, const std::string& public_ip) {
  json out = json::array();
  for (const std::string& name : {member.fqdn(), "*." + member.fqdn()}) {
    out.push_back({{"type", "A"},
                   {"name", name},
                   {"content", public_ip},
                   {"ttl", 1},
                   {"proxied", false},
                   {"comment", "mybinder federation member " + member.name}});
  }
  return out;
}

json harbor_project_request(const Member& member) {
  std::int64_t quota_gb = member.registry ? member.registry->quota_gb : RegistryConfig{}.quota_gb;
  std::int64_t limit = quota_gb < 0 ? -1 : quota_gb * 1073741824LL;
  return {{"project_name", registry_project(member)},
          {"storage_limit", limit},
          {"metadata",
           {{"public", "false"},
            {"auto_scan", "false"},
            {"severity", "low"},
            {"prevent_vul", "false"},
            {"enable_content_trust", "false"},
            {"enable_content_trust_cosign", "false"},
            {"auto_sbom_generation", "false"},
            {"reuse_sys_cve_allowlist", "true"}}}};
}

std::string builder_robot_name(const Member& member) { return member.cluster() + "-builder"; }
std::string puller_robot_name(const Member& member) { return member.cluster() + "-user-puller"; }
std::string robot_full_name(const Member& member, const std::string& robot_name) {
  return "robot$" + registry_project(member) + "+" + robot_name;
}

namespace {

json robot_request(const Member& member, const std::string& name, const std::string& description, bool push) {
  json access = json::array();
  if (push)
    access.push_back({{"resource", "repository"}, {"action", "push"}});
  access.push_back({{"resource", "repository"}, {"action", "pull"}});
  json permission = {{"kind", "project"}, {"namespace", registry_project(member)}, {"access", access}};
  return {{"name", name},   {"description", description}, {"level", "project"},
          {"duration", -1}, {"disable", false},           {"permissions", json::array({permission})}};
}

json retain_rule(const std::string& tmpl) {
  json repo_selector = {{"kind", "doublestar"}, {"decoration", "repoMatches"}, {"pattern", "**"}};
  json tag_selector = {{"kind", "doublestar"},
                       {"decoration", "matches"},
                       {"pattern", "**"},
                       {"extras", R"({"untagged":false})"}};
  json params = json::object();
  params[tmpl] = 30;
  return {{"disabled", false},
          {"action", "retain"},
          {"template", tmpl},
          {"params", params},
          {"scope_selectors", {{"repository", json::array({repo_selector})}}},
          {"tag_selectors", json::array({tag_selector})}};
}

}  // namespace

json harbor_builder_robot_request(const Member& member) {
  return robot_request(member, builder_robot_name(member),
                       "BinderHub builder for " + member.cluster() + ": push new user images", true);
}

json harbor_puller_robot_request(const Member& member) {
  return robot_request(member, puller_robot_name(member),
                       "Pull access to user images for " + member.cluster(), false);
}

json harbor_retention_request(std::int64_t project_id) {
  return {{"algorithm", "or"},
          {"scope", {{"level", "project"}, {"ref", project_id}}},
          {"trigger",
           {{"kind", "Schedule"}, {"references", json::object()}, {"settings", {{"cron", "0 0 7 * * 6"}}}}},
          {"rules", json::array({retain_rule("nDaysSinceLastPull"), retain_rule("nDaysSinceLastPush")})}};
}

nlohmann::json harbor_gc_schedule_request() {
  return {{"schedule", {{"type", "Custom"}, {"cron", "0 0 7 * * 0"}}},
          {"parameters", {{"delete_untagged", true}, {"workers", 1}}}};
}

}  // namespace binder::firstboot::render
