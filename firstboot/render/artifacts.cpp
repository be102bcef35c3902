// The artifact table: one entry per name, each a pure function of the inputs.
#include "firstboot/render/artifacts.hpp"

#include <functional>

#include "common/spellcheck.hpp"
#include "firstboot/render/api_requests.hpp"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/helmchart.hpp"
#include "firstboot/render/kubeconfig.hpp"
#include "firstboot/render/member_overrides.hpp"
#include "firstboot/render/mybinder_files.hpp"
#include "firstboot/render/mybinder_release.hpp"
#include "firstboot/render/sizing.hpp"
#include "firstboot/render/yaml.hpp"

namespace binder::firstboot::render {

using common::Errc;
using common::fail;
using nlohmann::json;

namespace {

struct Inputs {
  const Member& member;
  const MachineFacts& facts;
  const SecretsView& secrets;
  const RenderExtras& extras;
  Sizing size;
};

using Renderer = std::function<common::Result<std::string>(const Inputs&)>;

enum class Scope { both, federation, standalone };

struct Entry {
  const char* name;
  Scope scope;
  Renderer render;
  bool harbor = false;  // only for a member running its own Harbor (not registry.kind external)
};

bool applies(Scope scope, const Member& member) {
  return scope == Scope::both || (scope == Scope::federation) == (member.mode == Mode::federation);
}

bool applies(const Entry& e, const Member& member) {
  return applies(e.scope, member) && (!e.harbor || runs_harbor(member));
}

const ImageCharts& charts_of(const Inputs& in) {
  static const ImageCharts k_pinned = pinned_image_charts();
  return in.extras.charts ? *in.extras.charts : k_pinned;
}

MybinderRelease release_of(const Inputs& in) {
  return mybinder_release(in.member, in.size, in.secrets, charts_of(in));
}

std::string json_text(const json& j) { return j.dump(2) + "\n"; }

// (chart, values) of one of the four charts.
std::pair<ChartRef, ChartValues> chart(const std::string& which, const Inputs& in) {
  if (which == "cert-manager")
    return {cert_manager_chart(), cert_manager_values(in.member)};
  if (which == "traefik")
    return {traefik_chart(), traefik_values(in.member, in.size)};
  if (which == "harbor")
    return {harbor_chart(in.member), harbor_values(in.member, in.size, in.secrets)};
  return {binderhub_chart(in.member), binderhub_values(in.member, in.size, in.secrets)};
}

Renderer helmchart(std::string which) {
  return [which](const Inputs& in) -> common::Result<std::string> {
    if (which == "cert-manager" && in.member.mode == Mode::federation) {
      return to_yaml(image_cert_manager_helmchart(charts_of(in)));
    }
    auto [ref, values] = chart(which, in);
    return to_yaml(helmchart_manifest(ref, values.values));
  };
}

Renderer values(std::string which) {
  return [which](const Inputs& in) -> common::Result<std::string> {
    if (which == "cert-manager" && in.member.mode == Mode::federation)
      return charts_of(in).cert_manager_values_text;
    return to_yaml(chart(which, in).second.values);
  };
}

Renderer secret_values(std::string which) {
  return [which](const Inputs& in) -> common::Result<std::string> {
    auto [ref, values] = chart(which, in);
    return to_yaml(values_secret_manifest(ref, values.secret_values));
  };
}

const std::vector<Entry>& table() {
  static const std::vector<Entry> k_table = {
      {"sizing", Scope::both,
       [](const Inputs& in) -> common::Result<std::string> { return json_text(in.size.to_json()); }},
      {"dns-records", Scope::both,
       [](const Inputs& in) -> common::Result<std::string> {
         nlohmann::json doc = {{"zone", dns_zone(in.member)},
                               {"records", dns_records(in.member, public_ip_of(in.member, in.facts))}};
         if (in.member.dns && !in.member.dns->zone_id.empty())
           doc["zone_id"] = in.member.dns->zone_id;  // no lookup
         return json_text(doc);
       }},
      {"helmchart-cert-manager", Scope::both, helmchart("cert-manager")},
      {"helmchart-traefik", Scope::standalone, helmchart("traefik")},
      {"helmchart-harbor", Scope::standalone, helmchart("harbor"), true},
      {"helmchart-binderhub", Scope::standalone, helmchart("binderhub")},
      {"values-cert-manager", Scope::both, values("cert-manager")},
      {"values-traefik", Scope::standalone, values("traefik")},
      {"values-harbor", Scope::standalone, values("harbor"), true},
      {"values-binderhub", Scope::standalone, values("binderhub")},
      {"secret-values-harbor", Scope::standalone, secret_values("harbor"), true},
      {"secret-values-binderhub", Scope::standalone, secret_values("binderhub")},
      {"clusterissuer", Scope::standalone,
       [](const Inputs& in) -> common::Result<std::string> { return to_yaml(cluster_issuer(in.member)); }},
      {"harbor-project", Scope::both,
       [](const Inputs& in) -> common::Result<std::string> {
         return json_text(harbor_project_request(in.member));
       },
       true},
      {"harbor-robots", Scope::both,
       [](const Inputs& in) -> common::Result<std::string> {
         return json_text(
             json::array({harbor_builder_robot_request(in.member), harbor_puller_robot_request(in.member)}));
       },
       true},
      {"harbor-retention", Scope::both,
       [](const Inputs&) -> common::Result<std::string> {
         json body = harbor_retention_request(1);
         body["scope"]["ref"] = "<project id>";
         return json_text(body);
       },
       true},
      {"kubeconfig", Scope::both,
       [](const Inputs& in) -> common::Result<std::string> {
         const std::string& text =
             in.extras.k3s_kubeconfig.empty() ? k3s_kubeconfig_placeholder() : in.extras.k3s_kubeconfig;
         return rewrite_kubeconfig_yaml(text, in.member.cluster(), public_ip_of(in.member, in.facts));
       }},
      {"harbor-gc", Scope::both,
       [](const Inputs&) -> common::Result<std::string> { return json_text(harbor_gc_schedule_request()); },
       true},
      {"helmchart-mybinder", Scope::federation,
       [](const Inputs& in) -> common::Result<std::string> {
         return to_yaml(mybinder_helmchart(release_of(in)));
       }},
      {"secret-values-mybinder", Scope::federation,
       [](const Inputs& in) -> common::Result<std::string> {
         return to_yaml(mybinder_values_secret(release_of(in)));
       }},
      {"member-overrides", Scope::federation,
       [](const Inputs&) -> common::Result<std::string> {
         json out = {{"overrides", json::array()}, {"central_only", json::array()}};
         for (const auto& o : member_overrides()) {
           out["overrides"].push_back({{"key", o.key}, {"value", o.value}, {"reason", o.reason}});
         }
         for (const auto& c : central_only_values()) {
           out["central_only"].push_back({{"key", c.key}, {"consequence", c.consequence}});
         }
         return json_text(out);
       }},
      {"mybinder-config", Scope::federation,
       [](const Inputs& in) -> common::Result<std::string> { return release_of(in).config_text; }},
      {"mybinder-secrets", Scope::federation,
       [](const Inputs& in) -> common::Result<std::string> { return release_of(in).secrets_text; }},
  };
  return k_table;
}

}  // namespace

std::string public_ip_of(const Member& member, const MachineFacts& facts) {
  if (member.public_ip && !member.public_ip->empty())
    return *member.public_ip;
  return facts.public_ip.empty() ? "<public-ip>" : facts.public_ip;
}

std::vector<std::string> artifact_names() {
  std::vector<std::string> out;
  for (const auto& e : table())
    out.push_back(e.name);
  return out;
}

std::vector<std::string> artifact_names(const Member& member) {
  std::vector<std::string> out;
  for (const auto& e : table()) {
    if (applies(e, member))
      out.push_back(e.name);
  }
  return out;
}

common::Result<std::string> render_artifact(std::string_view artifact, const Member& member,
                                            const MachineFacts& facts, const SecretsView& secrets,
                                            const RenderExtras& extras) {
  Inputs in{member, facts, secrets, extras, size_machine(facts, member)};
  if (artifact == "all") {
    std::string out;
    for (const auto& name : artifact_names(member)) {
      TRY_ASSIGN(std::string text, render_artifact(name, member, facts, secrets, extras));
      out += "# ==> " + name + " <==\n" + text;
    }
    return out;
  }
  for (const auto& e : table()) {
    if (artifact != e.name)
      continue;
    if (e.harbor && !runs_harbor(member)) {
      return fail(Errc::usage,
                  "artifact '{}' is Harbor's; member '{}' has registry.kind external (no Harbor)", artifact,
                  member.name);
    }
    if (!applies(e.scope, member)) {
      return fail(Errc::usage, "artifact '{}' exists only in {} mode (member '{}' is {})", artifact,
                  e.scope == Scope::federation ? "federation" : "standalone", member.name,
                  to_string(member.mode));
    }
    return e.render(in);
  }
  auto names = artifact_names();
  names.push_back("all");
  std::string hint;
  if (auto best = common::suggest(artifact, names))
    hint = fmt::format("; did you mean '{}'?", *best);
  return fail(Errc::usage, "unknown artifact '{}'{}", artifact, hint);
}

}  // namespace binder::firstboot::render
