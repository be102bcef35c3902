// Harbor's garbage-collection schedule (see harbor.hpp). Harbor returns the schedule as a
// GCHistory whose job_parameters is a JSON string; it is compared with what we want as data.
#include "common/log.hpp"
#include "firstboot/clients/harbor.hpp"

namespace binder::firstboot::clients {

namespace {

// True when the live GCHistory `got` already runs `want`.
bool same_schedule(const Json& want, const Json& got) {
  if (!got.is_object() || !got.contains("schedule") || !got["schedule"].is_object())
    return false;
  const Json& s = got["schedule"];
  if (s.value("type", "") != want["schedule"].value("type", "") ||
      s.value("cron", "") != want["schedule"].value("cron", "")) {
    return false;
  }
  Json params = Json::object();
  if (got.contains("job_parameters") && got["job_parameters"].is_string()) {
    params = Json::parse(got["job_parameters"].get<std::string>(), nullptr, false);
    if (params.is_discarded())
      return false;
  }
  return json_subset(want["parameters"], params);
}

}  // namespace

Result<Change> Harbor::ensure_gc_schedule(const Json& schedule) {
  TRY_ASSIGN(Answer got, call("GET", "/system/gc/schedule", nullptr));
  bool exists = got.body.is_object() && got.body.contains("schedule") && got.body["schedule"].is_object() &&
                got.body["schedule"].value("type", "None") != "None";
  if (exists && same_schedule(schedule, got.body))
    return Change::unchanged;
  TRY(call(exists ? "PUT" : "POST", "/system/gc/schedule", &schedule));
  common::log::info("Harbor: {} the GC schedule '{}'", exists ? "updated" : "created",
                    schedule["schedule"].value("cron", ""));
  return exists ? Change::updated : Change::created;
}

}  // namespace binder::firstboot::clients
