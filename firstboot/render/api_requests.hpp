// Request bodies the federation steps send, rendered from metadata (member spec §3.2, §4): the
// Cloudflare DNS records and the Harbor project, robots and retention policy. The steps own the
// find-before-create logic; these functions only say what the remote state must look like.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "firstboot/metadata/member.hpp"

namespace binder::firstboot::render {

// A records X.domain and *.X.domain -> public IP, DNS-only (proxied false: the kubeconfig and
// docker pushes need the VM's own address), ttl 1 (automatic), comment naming the member.
// Each element is a Cloudflare POST /zones/{id}/dns_records body.
nlohmann::json dns_records(const Member& member, const std::string& public_ip);
// The zone to look up with GET /zones?name=: metadata dns.zone, else the member's domain.
std::string dns_zone(const Member& member);

// POST /projects body: private project, storage_limit = quota_gb x 2^30 bytes (-1 unlimited),
// the metadata the Terraform provider sends (member spec §3.2).
nlohmann::json harbor_project_request(const Member& member);

// Robot names as given to Harbor ("<member>-builder", "<member>-user-puller") and as Harbor
// returns them ("robot$<project>+<member>-builder").
std::string builder_robot_name(const Member& member);
std::string puller_robot_name(const Member& member);
std::string robot_full_name(const Member& member, const std::string& robot_name);

// POST /robots bodies: project-level, never expiring (duration -1), one permission entry on the
// project; builder may push and pull, user-puller may pull.
nlohmann::json harbor_builder_robot_request(const Member& member);
nlohmann::json harbor_puller_robot_request(const Member& member);

// POST /retentions (or PUT /retentions/{id}) body: keep what was pulled or pushed in the last 30
// days, run Saturdays 07:00 (mybinder's schedule, Harbor 6-field cron).
nlohmann::json harbor_retention_request(std::int64_t project_id);

// POST/PUT /system/gc/schedule body: the GC schedule real members have (member spec §3.1,
// terraform harbor_garbage_collection): Sundays 07:00 (6-field cron "0 0 7 * * 0"), delete
// untagged artifacts, one worker.
nlohmann::json harbor_gc_schedule_request();

}  // namespace binder::firstboot::render
