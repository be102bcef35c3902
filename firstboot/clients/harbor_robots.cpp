// Harbor project robots through the v2 /robots API (the legacy /projects/{p}/robots is gone
// since v2.13). Harbor returns a robot's secret only once, at creation, and ignores a secret in
// the create body; so the caller generates the secret, keeps it in the journal first, and sets
// it with PATCH /robots/{id} {"secret"} after creating (or finding) the robot. Lookup lists the
// project's robots (q=Level=project,ProjectID=<id>) and compares the full name
// robot$<project>+<name>, since the returned name differs from the one sent.
#include <algorithm>
#include <set>

#include "common/log.hpp"
#include "firstboot/clients/harbor.hpp"

namespace binder::firstboot::clients {

namespace {

Robot robot_from(const Json& j) {
  Robot r;
  r.id = j.value("id", 0);
  r.name = j.value("name", "");
  r.disabled = j.value("disable", false);
  if (j.contains("permissions"))
    r.permissions = j["permissions"];
  return r;
}

Json permissions_for(const std::string& project, const RobotSpec& spec) {
  Json access = Json::array();
  for (const auto& a : spec.actions) {
    access.push_back({{"resource", "repository"}, {"action", a}});
  }
  return Json::array({{{"kind", "project"}, {"namespace", project}, {"access", access}}});
}

std::set<std::string> access_set(const Json& perms) {
  std::set<std::string> out;
  if (!perms.is_array())
    return out;
  for (const auto& p : perms) {
    std::string ns = p.value("kind", "") + ":" + p.value("namespace", "");
    if (!p.contains("access"))
      continue;
    for (const auto& a : p["access"]) {
      out.insert(ns + ":" + a.value("resource", "") + ":" + a.value("action", ""));
    }
  }
  return out;
}

}  // namespace

std::string make_robot_secret() {
  // 32 alphanumerics miss a class with probability ~1e-4; draw again until all three are there.
  for (;;) {
    std::string s = random_alnum(32);
    bool upper = std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    bool lower = std::any_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
    bool digit = std::any_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (upper && lower && digit)
      return s;
  }
}

Result<std::optional<Robot>> Harbor::find_robot(const HarborProject& project, const std::string& name) {
  std::string full = robot_full_name(project.name, name);
  for (int page = 1; page < 1000; ++page) {
    TRY_ASSIGN(Answer a, call("GET",
                              fmt::format("/robots?q=Level%3Dproject%2CProjectID%3D{}"
                                          "&page={}&page_size=100",
                                          project.id, page),
                              nullptr));
    if (!a.body.is_array())
      break;
    for (const auto& r : a.body) {
      if (r.value("name", "") == full)
        return std::optional<Robot>(robot_from(r));
    }
    auto link = a.raw.header("Link");
    if (a.body.size() < 100 && !(link && link->find("rel=\"next\"") != std::string::npos))
      break;
  }
  return std::optional<Robot>{};
}

Result<Robot> Harbor::create_robot(const HarborProject& project, const RobotSpec& spec) {
  Json body = {{"name", spec.name}, {"description", spec.description},
               {"duration", -1},    {"level", "project"},
               {"disable", false},  {"permissions", permissions_for(project.name, spec)}};
  TRY_ASSIGN(Answer a, call("POST", "/robots", &body));
  Robot r;
  r.id = a.body.value("id", 0);
  r.name = a.body.value("name", robot_full_name(project.name, spec.name));
  r.permissions = body["permissions"];
  if (a.body.contains("secret") && a.body["secret"].is_string()) {
    common::log::add_secret(a.body["secret"].get<std::string>());  // unused, never shown
  }
  common::log::info("Harbor: created robot '{}'", r.name);
  return r;
}

Result<void> Harbor::set_robot_secret(int robot_id, const std::string& secret) {
  common::log::add_secret(secret);
  Json body = {{"secret", secret}};
  TRY(call("PATCH", fmt::format("/robots/{}", robot_id), &body));
  return {};
}

Result<Change> Harbor::ensure_robot_permissions(const HarborProject& project, const Robot& robot,
                                                const RobotSpec& spec) {
  Json want = permissions_for(project.name, spec);
  if (access_set(want) == access_set(robot.permissions) && !robot.disabled) {
    return Change::unchanged;
  }
  TRY_ASSIGN(Answer got, call("GET", fmt::format("/robots/{}", robot.id), nullptr));
  Json body = got.body;
  body["permissions"] = want;
  body["disable"] = false;
  body["duration"] = -1;
  body["description"] = spec.description;
  TRY(call("PUT", fmt::format("/robots/{}", robot.id), &body));
  common::log::info("Harbor: updated the permissions of robot '{}'", robot.name);
  return Change::updated;
}

Result<Robot> Harbor::ensure_robot(const HarborProject& project, const RobotSpec& spec,
                                   const std::string& secret, std::optional<int> secret_applied_to,
                                   Change& change) {
  change = Change::unchanged;
  TRY_ASSIGN(auto found, find_robot(project, spec.name));
  Robot robot;
  if (found) {
    robot = *found;
    TRY_ASSIGN(change, ensure_robot_permissions(project, robot, spec));
  } else {
    auto created = create_robot(project, spec);
    if (!created) {
      // 409: created concurrently (or a list that lagged); look again.
      TRY_ASSIGN(auto again, find_robot(project, spec.name));
      if (!again)
        return std::unexpected(created.error());
      robot = *again;
    } else {
      robot = *created;
      change = Change::created;
    }
  }
  if (secret_applied_to != robot.id) {
    TRY(set_robot_secret(robot.id, secret));
    if (change == Change::unchanged)
      change = Change::updated;
  }
  return robot;
}

}  // namespace binder::firstboot::clients
