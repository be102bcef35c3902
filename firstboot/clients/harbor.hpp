// Harbor API v2.0 client for the member's registry: health, the project and its quota, the
// retention policy (one per project, its id kept in the project's metadata) and project robot
// accounts through /robots. Basic auth on every request and no cookie jar, so Harbor's CSRF check
// (enforced only when the session cookie comes back) never applies; each request carries an
// X-Request-Id that error messages quote. Converge calls find before they create and compare
// before they write, so a second run sends no write at all. The password is a log secret.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "firstboot/clients/api.hpp"

namespace binder::firstboot::clients {

inline constexpr std::int64_t k_gib = 1073741824;

struct HarborProject {
  int id = 0;
  std::string name;
  std::map<std::string, std::string> metadata;  // values are strings ("true", "12")
};

struct RobotSpec {
  std::string name;  // short name: "builder"
  std::string description;
  std::vector<std::string> actions;  // on resource "repository": {"push", "pull"}
};

struct Robot {
  int id = 0;
  std::string name;  // full name as Harbor returns it: "robot$mybinder-builds+builder"
  Json permissions = Json::array();
  bool disabled = false;
};

// "robot$<project>+<name>" (Harbor's default robot_name_prefix).
std::string robot_full_name(const std::string& project, const std::string& name);
// The retention policy: retain artifacts pulled or pushed within `days`, weekly (Sat 07:00).
Json retention_policy(int project_id, int days);

class Harbor {
 public:
  // api_base: "https://registry.x.mybinder.org/api/v2.0".
  Harbor(std::string api_base, std::string user, std::string password, common::http::Options http = {});

  // GET /health (anonymous): true when the overall status is "healthy".
  Result<bool> healthy();

  // HEAD /projects?project_name= then GET /projects/{name}; nullopt if absent.
  Result<std::optional<HarborProject>> find_project(const std::string& name);
  // Creates the project if missing with storage_limit = quota_gb GiB (<0: unlimited), then
  // makes its quota match; `change` reports what happened.
  Result<HarborProject> ensure_project(const std::string& name, std::int64_t quota_gb, Change& change);
  Result<Change> ensure_quota(int project_id, std::int64_t bytes);
  // Creates or updates the project's retention policy to `policy` (compared as a subset of what
  // Harbor returns).
  Result<Change> ensure_retention(const HarborProject& project, const Json& policy);

  // The system garbage-collection schedule (harbor_gc.cpp): GET /system/gc/schedule (an empty
  // body when none exists), then POST (none) or PUT (cron or parameters differ) `schedule`, a
  // Schedule body {"schedule": {"type", "cron"}, "parameters": {...}}.
  Result<Change> ensure_gc_schedule(const Json& schedule);
  // Project robots (harbor_robots.cpp).
  Result<std::optional<Robot>> find_robot(const HarborProject& project, const std::string& name);
  // POST /robots (duration -1); Harbor's generated secret is ignored: set_robot_secret() follows.
  Result<Robot> create_robot(const HarborProject& project, const RobotSpec& spec);
  // PATCH /robots/{id} {"secret": s}: s must have 8-128 chars with upper, lower case and a digit.
  Result<void> set_robot_secret(int robot_id, const std::string& secret);
  // PUT /robots/{id} when the permissions differ from the spec's.
  Result<Change> ensure_robot_permissions(const HarborProject& project, const Robot& robot,
                                          const RobotSpec& spec);
  // Find or create the robot, and make its permissions right. `secret_applied_to` is the robot
  // id our secret was last set on (from the journal): when the robot found has another id (new,
  // or recreated by someone) the secret is set again. Returns the robot; `change` says what
  // happened.
  Result<Robot> ensure_robot(const HarborProject& project, const RobotSpec& spec, const std::string& secret,
                             std::optional<int> secret_applied_to, Change& change);

  struct Answer {
    int status = 0;
    Json body;
    common::http::Response raw;
  };
  // One request; non-2xx (other than those in `accept`) become errors naming the request id.
  Result<Answer> call(const std::string& method, const std::string& path, const Json* body,
                      std::vector<int> accept = {}, std::vector<common::http::Header> extra = {});

 private:
  std::string m_base;
  std::string m_auth;
  common::http::Client m_http;
};

// A random secret Harbor accepts for a robot (32 chars, upper + lower + digit).
std::string make_robot_secret();

// True if every key of `want` is in `got` with an equal value (recursively; arrays elementwise).
bool json_subset(const Json& want, const Json& got);

}  // namespace binder::firstboot::clients
