// The artifact table: one entry per name, each a pure function of the inputs.
#include "firstboot/render/artifacts.hpp"

#include <functional>

#include "common/spellcheck.hpp"
#include "firstboot/render/api_requests.hpp"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/helmchart.hpp"
#include "firstboot/render/kubeconfig.hpp"
#include "firstboot/render/mybinder_files.hpp"
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

struct Entry {
  const char* name;
  bool federation_only;
  Renderer render;
};

std::string json_text(const json& j) { return j.dump(2) + "\n"; }

// (chart, values) of one of the four charts.
std::pair<ChartRef, ChartValues> chart(const std::string& which, const Inputs& in) {
  if (which == "cert-manager") return {cert_manager_chart(), cert_manager_values(in.member)};
  if (which == "traefik") return {traefik_chart(), traefik_values(in.member, in.size)};
  if (which == "harbor") return {harbor_chart(in.member), harbor_values(in.member, in.size, in.secrets)};
  return {binderhub_chart(in.member), binderhub_values(in.member, in.size, in.secrets)};
}

Renderer helmchart(std::string which) {
  return [which](const Inputs& in) -> common::Result<std::string> {
    auto [ref, values] = chart(which, in);
    return to_yaml(helmchart_manifest(ref, values.values));
  };
}

Renderer values(std::string which) {
  return [which](const Inputs& in) -> common::Result<std::string> { return to_yaml(chart(which, in).second.values); };
}

Renderer secret_values(std::string which) {
  return [which](const Inputs& in) -> common::Result<std::string> {
    auto [ref, values] = chart(which, in);
    return to_yaml(values_secret_manifest(ref, values.secret_values));
  };
}

const std::vector<Entry>& table() {
  static const std::vector<Entry> k_table = {
      {"sizing", false, [](const Inputs& in) -> common::Result<std::string> { return json_text(in.size.to_json()); }},
      {"dns-records", false,
       [](const Inputs& in) -> common::Result<std::string> {
         return json_text({{"zone", dns_zone(in.member)},
                           {"records", dns_records(in.member, public_ip_of(in.member, in.facts))}});
       }},
      {"helmchart-cert-manager", false, helmchart("cert-manager")},
      {"helmchart-traefik", false, helmchart("traefik")},
      {"helmchart-harbor", false, helmchart("harbor")},
      {"helmchart-binderhub", false, helmchart("binderhub")},
      {"values-cert-manager", false, values("cert-manager")},
      {"values-traefik", false, values("traefik")},
      {"values-harbor", false, values("harbor")},
      {"values-binderhub", false, values("binderhub")},
      {"secret-values-harbor", false, secret_values("harbor")},
      {"secret-values-binderhub", false, secret_values("binderhub")},
      {"clusterissuer", false, [](const Inputs& in) -> common::Result<std::string> { return to_yaml(cluster_issuer(in.member)); }},
      {"harbor-project", false,
       [](const Inputs& in) -> common::Result<std::string> { return json_text(harbor_project_request(in.member)); }},
      {"harbor-robots", false,
       [](const Inputs& in) -> common::Result<std::string> {
         return json_text(json::array({harbor_builder_robot_request(in.member), harbor_puller_robot_request(in.member)}));
       }},
      {"harbor-retention", false,
       [](const Inputs&) -> common::Result<std::string> {
         json body = harbor_retention_request(1);
         body["scope"]["ref"] = "<project id>";
         return json_text(body);
       }},
      {"kubeconfig", false,
       [](const Inputs& in) -> common::Result<std::string> {
         const std::string& text = in.extras.k3s_kubeconfig.empty() ? k3s_kubeconfig_placeholder() : in.extras.k3s_kubeconfig;
         return rewrite_kubeconfig_yaml(text, in.member.name, public_ip_of(in.member, in.facts));
       }},
      {"mybinder-config", true,
       [](const Inputs& in) -> common::Result<std::string> {
         return mybinder_file_text(in.member, mybinder_config(in.member, in.size), false);
       }},
      {"mybinder-secrets", true,
       [](const Inputs& in) -> common::Result<std::string> {
         return mybinder_file_text(in.member, mybinder_secrets(in.member, in.secrets), true);
       }},
  };
  return k_table;
}

}  // namespace

std::string public_ip_of(const Member& member, const MachineFacts& facts) {
  if (member.public_ip && !member.public_ip->empty()) return *member.public_ip;
  return facts.public_ip.empty() ? "<public-ip>" : facts.public_ip;
}

std::vector<std::string> artifact_names() {
  std::vector<std::string> out;
  for (const auto& e : table()) out.push_back(e.name);
  return out;
}

std::vector<std::string> artifact_names(const Member& member) {
  std::vector<std::string> out;
  for (const auto& e : table()) {
    if (!e.federation_only || member.mode == Mode::federation) out.push_back(e.name);
  }
  return out;
}

common::Result<std::string> render_artifact(std::string_view artifact, const Member& member, const MachineFacts& facts,
                                            const SecretsView& secrets, const RenderExtras& extras) {
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
    if (artifact != e.name) continue;
    if (e.federation_only && member.mode != Mode::federation) {
      return fail(Errc::usage, "artifact '{}' exists only in federation mode (member '{}' is standalone)",
                  artifact, member.name);
    }
    return e.render(in);
  }
  auto names = artifact_names();
  names.push_back("all");
  std::string hint;
  if (auto best = common::suggest(artifact, names)) hint = fmt::format("; did you mean '{}'?", *best);
  return fail(Errc::usage, "unknown artifact '{}'{}", artifact, hint);
}

}  // namespace binder::firstboot::render
