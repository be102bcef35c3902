// Shared helpers of the federation steps; see context.hpp.
#include "firstboot/federation/context.hpp"

#include <algorithm>
#include <cstdlib>

#include "common/log.hpp"
#include "firstboot/federation/readiness.hpp"
#include "firstboot/render/artifacts.hpp"
#include "firstboot/render/charts.hpp"

namespace binder::firstboot::federation {

namespace log = common::log;
using common::fail;

std::string secret_output_key(std::string_view name) { return "secrets." + std::string(name); }

const std::vector<std::string_view>& generated_secret_names() {
  namespace s = render::secret;
  static const std::vector<std::string_view> names = {
      s::harbor_admin_password,    s::harbor_secret_key,      s::harbor_core_secret,
      s::harbor_xsrf_key,          s::harbor_token_key,       s::harbor_token_cert,
      s::harbor_jobservice_secret, s::harbor_registry_secret, s::harbor_registry_password,
      s::harbor_registry_htpasswd, s::grafana_admin_password};
  return names;
}

Result<std::string> ensure_secret(Env& env, std::string_view name,
                                  const std::function<Result<std::string>()>& make) {
  std::string key = secret_output_key(name);
  if (auto have = env.output(key)) {
    log::add_secret(*have);
    return *have;
  }
  TRY_ASSIGN(std::string value, make());
  TRY(env.put_output(key, value, true));
  return value;
}

render::SecretsView secrets_view(const Env& env) {
  render::SecretsView view = render::SecretsView::from_member(env.member);
  std::vector<std::string_view> names = generated_secret_names();
  names.push_back(render::secret::builder_robot_secret);
  names.push_back(render::secret::puller_robot_secret);
  for (auto name : names) {
    if (auto v = env.output(secret_output_key(name))) {
      view.set(name, *v);
    }
  }
  return view;
}

Result<KubeClient> kube_client(Env& env, const FederationOptions& options) {
  TRY_ASSIGN(KubeConfig config, load_kubeconfig(env.path(options.kubeconfig)));
  common::http::Options http = options.http;
  http.ca_file.clear();  // the cluster CA comes from the kubeconfig
  http.ca_pem.clear();
  return KubeClient(std::move(config), http);
}

std::string harbor_api(const Env& env, const FederationOptions& options) {
  if (!options.harbor_api.empty())
    return options.harbor_api;
  return "https://" + render::registry_host(env.member) + "/api/v2.0";
}

Result<bool> apply_logged(KubeClient& kube, const nlohmann::json& manifest) {
  TRY_ASSIGN(ApplyResult r, kube.apply(manifest));
  if (r != ApplyResult::unchanged) {
    log::info("{} {}", ObjectRef::of(manifest).describe(), to_string(r));
  }
  return r != ApplyResult::unchanged;
}

Result<void> wait_deployments(Env& env, KubeClient& kube, const FederationOptions& options,
                              const std::string& ns, const std::vector<std::string>& names) {
  std::string last;
  auto probe = [&]() -> Result<bool> {
    TRY_ASSIGN(auto all, kube.deployments(ns));
    std::vector<std::string> waiting;
    for (const auto& name : names) {
      bool found = std::any_of(all.begin(), all.end(), [&](const auto& d) { return d.name == name; });
      if (!found)
        waiting.push_back(name + " (missing)");
    }
    for (const auto& d : all) {
      if (!d.ready)
        waiting.push_back(d.name + " (" + d.reason + ")");
    }
    if (all.empty() && names.empty())
      waiting.push_back("no deployment yet");
    last.clear();
    for (const auto& w : waiting)
      last += (last.empty() ? "" : ", ") + w;
    return waiting.empty();
  };
  auto r = KubeClient::wait_until(env.clock, fmt::format("deployments in namespace '{}'", ns),
                                  options.deploy_timeout, options.poll_interval, probe);
  if (!r) {
    Error e = r.error();
    if (!last.empty())
      e.message += ": waiting for " + last;
    return std::unexpected(e);
  }
  return {};
}

Result<std::string> public_ip(const Env& env) {
  std::string ip = render::public_ip_of(env.member, env.facts);
  if (ip.empty() || ip.front() == '<') {
    return fail(common::Errc::precondition, "the member's public IP is not known yet");
  }
  return ip;
}

namespace {
std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}
}  // namespace

FederationOptions options_from_environment() {
  FederationOptions o;
  o.cloudflare_api = env_or("BINDER_FIRSTBOOT_CLOUDFLARE_API", o.cloudflare_api);
  o.harbor_api = env_or("BINDER_FIRSTBOOT_HARBOR_API", o.harbor_api);
  o.s3_endpoint = env_or("BINDER_FIRSTBOOT_S3_ENDPOINT", o.s3_endpoint);
  o.http.ca_file = env_or("BINDER_FIRSTBOOT_CA_FILE", "");
  o.http.also_system_cas = true;  // the CA file adds to the system store
  // Test-only (smoke boot): "host:port:to_host:to_port,..." as curl's --connect-to, so the
  // public names reach the host's fakes while TLS still checks those names. Ignored if malformed.
  if (auto rules = common::http::parse_connect_to(env_or("BINDER_FIRSTBOOT_TEST_CONNECT_TO", ""))) {
    o.http.connect_to = *rules;
  } else {
    log::warn("BINDER_FIRSTBOOT_TEST_CONNECT_TO: {}, ignoring", rules.error().message);
  }
  o.harbor_admin_password = env_or("BINDER_FIRSTBOOT_HARBOR_ADMIN_PASSWORD", "");
  if (const char* scale = std::getenv("BINDER_FIRSTBOOT_WAIT_SCALE")) {
    double f = std::atof(scale);
    if (f > 0) {
      auto s = [f](std::chrono::milliseconds d) {
        return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(d.count()) * f));
      };
      o.harbor_timeout = s(o.harbor_timeout);
      o.deploy_timeout = s(o.deploy_timeout);
      o.poll_interval = s(o.poll_interval);
    }
  }
  return o;
}

}  // namespace binder::firstboot::federation

namespace binder::firstboot::federation {

Result<void> wait_for(Env& env, const FederationOptions& options, std::string_view what,
                      std::chrono::milliseconds timeout, const std::function<Result<bool>()>& probe) {
  std::string last_error;
  std::string last_hint;
  auto wrapped = [&]() -> Result<bool> {
    auto r = probe();
    if (!r) {
      last_error = r.error().to_string();
      last_hint = r.error().hint;
      if (r.error().code == common::Errc::network || r.error().code == common::Errc::temporary) {
        return false;
      }
      return r;
    }
    return *r;
  };
  auto r = KubeClient::wait_until(env.clock, what, timeout, options.poll_interval, wrapped);
  if (!r) {
    Error e = r.error();
    if (!last_error.empty())
      e.message += fmt::format(" (last error: {})", last_error);
    if (e.hint.empty())
      e.hint = last_hint;  // what to do about the last error (console block)
    return std::unexpected(e);
  }
  return {};
}

}  // namespace binder::firstboot::federation
