// The member-side overrides table (see member_overrides.hpp). Keep it short: every entry is
// something a real member gets from central's secret files.
#include "firstboot/render/member_overrides.hpp"

namespace binder::firstboot::render {

using nlohmann::json;

const std::vector<MemberOverride>& member_overrides() {
  static const std::vector<MemberOverride> k_list = {
      {"minesweeper.enabled", "false",
       "mybinder/files/minesweeper/secrets/herorat.py is git-crypt ciphertext in the public "
       "repository: the packaged chart leaves it out, and minesweeper imports it"},
      {"cryptnono.enabled", "false",
       "cryptnono's detector config and ban lists are in secrets/config/common/cryptnono.yaml "
       "(central only)"},
      {"k8s-log-alerter-zulip.enabled", "false",
       "the Zulip bot email, key and channel are in secrets/config/common/common.yaml (central only); "
       "the alerter only watches cryptnono and minesweeper, which are off"},
      {"binderhub.extraConfig.01-eventlog",
       "# off until handover: the events archiver needs the GCP service-account key that central "
       "adds as eventsArchiver.serviceAccountKey",
       "binderhub's 01-eventlog builds a Google Cloud Logging client from that key; without it the "
       "binder pod cannot start"},
      {"eventsArchiver.serviceAccountKey", "none-until-handover",
       "config/<cluster>.yaml mounts Secret events-archiver-secrets into the binder pod, and the chart "
       "makes it only from this key (central's GCP service-account key, in secrets/config/<cluster>.yaml "
       "after handover); a stand-in lets the pod start, nothing reads it while 01-eventlog is off"},
  };
  return k_list;
}

const std::vector<CentralOnlyValue>& central_only_values() {
  static const std::vector<CentralOnlyValue> k_list = {
      {"binderhub.config.GitHubRepoProvider.access_token",
       "unless the metadata gives binderhub.github_token (a donor's token, deployed as Secret "
       "<cluster>-member-values, not exported), GitHub API calls are unauthenticated: 60 requests "
       "per hour from the member's IP (central's token is in secrets/config/common/common.yaml)"},
      {"binderhub.config.BinderHub.banned_specs",
       "no banned repositories beyond the chart defaults (secrets/config/common/common.yaml)"},
      {"binderhub.networkPolicy.egress.bannedIps, binderhub.networkPolicy.ingress.bannedIps",
       "no IP ban lists (secrets/config/common/common.yaml, secrets/generate-banned-ips.py)"},
      {"eventsArchiver.serviceAccountKey",
       "no launch events archived; central adds the key to secrets/config/<cluster>.yaml"},
  };
  return k_list;
}

json member_overrides_set() {
  json set = json::object();
  for (const auto& o : member_overrides())
    set[o.key] = o.value;
  return set;
}

json member_overrides_values() {
  json doc = json::object();
  for (const auto& o : member_overrides()) {
    json* at = &doc;
    size_t b = 0;
    for (size_t dot; (dot = o.key.find('.', b)) != std::string::npos; b = dot + 1) {
      at = &(*at)[o.key.substr(b, dot - b)];
    }
    json value = o.value == "true" ? json(true) : o.value == "false" ? json(false) : json(o.value);
    (*at)[o.key.substr(b)] = value;
  }
  return doc;
}

}  // namespace binder::firstboot::render
