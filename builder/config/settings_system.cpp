// Settings: sysctls, kubelet, cloud_init and ntp: host configuration written into the system
// layer (kubelet values are read by binder-firstboot, so they belong to the final layer).
#include <regex>

#include "config/settings_internal.hpp"

namespace binder::config::detail {
namespace {

void parse_sysctls(const Node* n, ParseCtx& c) {
  if (!c.expect(*n, Node::Kind::map, "a mapping")) {
    return;
  }
  static const std::regex k_key(R"([a-z0-9_][a-z0-9_./-]*)");
  c.p.sysctls.clear();
  for (const Entry& e : n->entries) {
    if (!std::regex_match(e.key, k_key)) {
      c.diags.error(e.key_loc, fmt::format("invalid sysctl name '{}'", e.key), std::nullopt,
                    static_cast<int>(e.key.size()));
      continue;
    }
    if (e.value.kind != Node::Kind::scalar || e.value.text.empty()) {
      c.diags.error(e.value.loc,
                    fmt::format("expected a scalar for 'sysctls.{}', got {}", e.key, e.value.kind_name()));
      continue;
    }
    c.p.sysctls[e.key] = {e.value.text, e.value.loc};
  }
}

void parse_ntp(const Node* n, ParseCtx& c) {
  if (!c.get_list(*n, c.p.ntp)) {
    return;
  }
  static const std::regex k_host(R"([A-Za-z0-9][A-Za-z0-9.:-]*)");
  for (const auto& s : c.p.ntp.value) {
    if (!std::regex_match(s.value, k_host)) {
      c.diags.error(s.loc, fmt::format("invalid NTP server '{}'", s.value), std::nullopt,
                    static_cast<int>(s.value.size()));
    }
  }
}

}  // namespace

void add_system_settings(std::vector<SettingSpec>& out) {
  out.insert(
      out.end(),
      {
          {"sysctls",
           ValueKind::string_map,
           "{}",
           "Kernel parameters written to `/etc/sysctl.d/60-binder.conf` (name: value). A child "
           "profile adds to and overrides its parent's entries.",
           LayerKind::system,
           {},
           false,
           false,
           parse_sysctls,
           [](const Profile& p, RenderCtx& r) {
             for (const auto& [k, v] : p.sysctls) {
               r.sub("." + k, v.value, v.loc);
             }
           }},
          {"kubelet",
           ValueKind::section,
           "",
           "Kubelet defaults baked into /etc/binder-image/build.json; binder-firstboot reads them there "
           "and sizes the kubelet drop-in from them and the machine (README: machine sizing).",
           LayerKind::final,
           {},
           false,
           false,
           [](const Node*, ParseCtx& c) {
             const Kubelet& k = c.p.kubelet;
             bool both = !k.image_gc_low.loc.path.empty() && !k.image_gc_high.loc.path.empty();
             if (both && k.image_gc_low.value >= k.image_gc_high.value) {
               c.diags.error(k.image_gc_low.loc.line > 0 ? k.image_gc_low.loc : k.image_gc_high.loc,
                             fmt::format("'kubelet.image_gc_low' ({}) must be below "
                                         "'kubelet.image_gc_high' ({})",
                                         k.image_gc_low.value, k.image_gc_high.value));
             }
           },
           nullptr},
          {"kubelet.max_pods_per_gib",
           ValueKind::number,
           "1.75",
           "maxPods = floor(this x RAM in GiB), within [20, 500] (above 250 the k3s server gets a /23 "
           "node CIDR). The member metadata's node.max_pods_per_gib overrides it.",
           LayerKind::final,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) {
             if (c.get(*n, c.p.kubelet.max_pods_per_gib) &&
                 (c.p.kubelet.max_pods_per_gib.value <= 0 || c.p.kubelet.max_pods_per_gib.value > 50)) {
               c.error(*n, "'kubelet.max_pods_per_gib' must be a number in (0, 50]");
               c.p.kubelet.max_pods_per_gib = {};
             }
           },
           [](const Profile& p, RenderCtx& r) {
             r(text_of(p.kubelet.max_pods_per_gib), p.kubelet.max_pods_per_gib.loc);
           }},
          {"kubelet.image_gc_high",
           ValueKind::integer,
           "40",
           "Root disk usage percent at which the kubelet's image garbage collection starts "
           "(imageGCHighThresholdPercent).",
           LayerKind::final,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) {
             if (c.get(*n, c.p.kubelet.image_gc_high) &&
                 (c.p.kubelet.image_gc_high.value < 1 || c.p.kubelet.image_gc_high.value > 100)) {
               c.error(*n, "'kubelet.image_gc_high' must be a percentage (1-100)");
               c.p.kubelet.image_gc_high = {};
             }
           },
           [](const Profile& p, RenderCtx& r) {
             r(text_of(p.kubelet.image_gc_high), p.kubelet.image_gc_high.loc);
           }},
          {"kubelet.image_gc_low",
           ValueKind::integer,
           "20",
           "Root disk usage percent the kubelet's image garbage collection frees down to "
           "(imageGCLowThresholdPercent); below kubelet.image_gc_high.",
           LayerKind::final,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) {
             if (c.get(*n, c.p.kubelet.image_gc_low) &&
                 (c.p.kubelet.image_gc_low.value < 0 || c.p.kubelet.image_gc_low.value > 100)) {
               c.error(*n, "'kubelet.image_gc_low' must be a percentage (0-100)");
               c.p.kubelet.image_gc_low = {};
             }
           },
           [](const Profile& p, RenderCtx& r) {
             r(text_of(p.kubelet.image_gc_low), p.kubelet.image_gc_low.loc);
           }},
          {"cloud_init",
           ValueKind::section,
           "",
           "cloud-init configuration baked into the image.",
           LayerKind::system,
           {},
           false,
           false,
           [](const Node*, ParseCtx&) {},
           nullptr},
          {"cloud_init.datasources",
           ValueKind::string_list,
           "[]",
           "cloud-init `datasource_list`, in probe order (written to "
           "`/etc/cloud/cloud.cfg.d/90-binder-datasources.cfg`). Empty keeps the image's list.",
           LayerKind::system,
           {"NoCloud",      "ConfigDrive", "OpenStack", "Ec2",     "GCE",    "Azure",
            "AliYun",       "Hetzner",     "VMware",    "OVF",     "Oracle", "Scaleway",
            "DigitalOcean", "Exoscale",    "IBMCloud",  "UpCloud", "Vultr",  "CloudStack",
            "CloudSigma",   "OpenNebula",  "LXD",       "MAAS",    "Akamai", "None"},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_list(*n, c.p.cloud_init.datasources); },
           [](const Profile& p, RenderCtx& r) {
             r(text_of(p.cloud_init.datasources), p.cloud_init.datasources.loc);
           }},
          {"ntp",
           ValueKind::string_list,
           "[]",
           "NTP servers for systemd-timesyncd, baked into `/etc/systemd/timesyncd.conf.d/60-binder.conf` "
           "(the provider's time servers). Empty keeps the distribution's default. First boot never "
           "changes that file: a member's `node.ntp` goes into its own drop-in, "
           "`/etc/systemd/timesyncd.conf.d/70-binder-member.conf`, and adds to these servers "
           "(`node.ntp_mode: add`, the default) or replaces them (`node.ntp_mode: replace`, written as an "
           "empty `NTP=` that resets the list before the member's servers).",
           LayerKind::system,
           {},
           false,
           false,
           parse_ntp,
           [](const Profile& p, RenderCtx& r) { r(text_of(p.ntp), p.ntp.loc); }},
      });
}

}  // namespace binder::config::detail
