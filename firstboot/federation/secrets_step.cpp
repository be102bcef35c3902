// secrets:generate: the member's stable secrets (and the Harbor robot secrets), generated once
// with OpenSSL RAND and recorded in the journal (0600) before anything uses them, so a crash at
// any point never loses or changes one (Harbor would otherwise churn its pods, member spec §1
// step 11). They then go to the Secret kube-system/binder-member-secrets; the charts get them
// through their valuesSecrets Secrets.
#include "common/log.hpp"
#include "firstboot/clients/api.hpp"
#include "firstboot/clients/harbor.hpp"
#include "firstboot/federation/context.hpp"
#include "firstboot/federation/generate.hpp"

namespace binder::firstboot::federation {

namespace s = render::secret;
using clients::random_alnum;

namespace {

inline constexpr const char* k_registry_user = "harbor_registry_user";

Result<std::string> alnum(size_t n) { return random_alnum(n); }
Result<std::string> password() { return clients::make_robot_secret(); }

class SecretsStep : public Step {
 public:
  explicit SecretsStep(FederationOptions o) : m_options(std::move(o)) {}
  std::string_view id() const override { return "secrets:generate"; }
  std::string describe(const Env&) const override {
    return "generate Harbor and Grafana secrets once; Secret kube-system/binder-member-secrets";
  }
  std::string fingerprint(const Env&) const override { return fingerprint_of({"v1"}); }

  Result<Outcome> apply(Env& env) override {
    size_t before = known(env);
    TRY(ensure_secret(env, s::harbor_admin_password, [this]() -> Result<std::string> {
      if (!m_options.harbor_admin_password.empty())
        return m_options.harbor_admin_password;
      return password();
    }));
    TRY(ensure_secret(env, s::harbor_secret_key, [] { return alnum(16); }));
    TRY(ensure_secret(env, s::harbor_core_secret, [] { return alnum(16); }));
    TRY(ensure_secret(env, s::harbor_xsrf_key, [] { return alnum(32); }));
    TRY(ensure_secret(env, s::harbor_jobservice_secret, [] { return alnum(16); }));
    TRY(ensure_secret(env, s::harbor_registry_secret, [] { return alnum(16); }));
    TRY_ASSIGN(std::string registry_pw, ensure_secret(env, s::harbor_registry_password, password));
    TRY(ensure_secret(env, s::harbor_registry_htpasswd,
                      [&] { return htpasswd_line(k_registry_user, registry_pw); }));
    TRY(token_pair(env));
    TRY(ensure_secret(env, s::grafana_admin_password, password));
    // The Harbor robots' secrets are ours too (harbor:api sets them on the robots): known before
    // the mybinder release is first deployed, so it starts with its final registry credentials.
    TRY(ensure_secret(env, s::builder_robot_secret, password));
    TRY(ensure_secret(env, s::puller_robot_secret, password));
    bool generated = known(env) != before;

    nlohmann::json data = nlohmann::json::object();
    for (auto name : generated_secret_names()) {
      data[std::string(name)] = *env.output(secret_output_key(name));
    }
    nlohmann::json secret = {{"apiVersion", "v1"},
                             {"kind", "Secret"},
                             {"metadata",
                              {{"name", "binder-member-secrets"},
                               {"namespace", "kube-system"},
                               {"labels", {{"app.kubernetes.io/managed-by", "binder-firstboot"}}}}},
                             {"type", "Opaque"},
                             {"stringData", data}};
    TRY_ASSIGN(KubeClient kube, kube_client(env, m_options));
    TRY_ASSIGN(bool applied, apply_logged(kube, secret));
    return generated || applied ? Outcome::changed : Outcome::unchanged;
  }

 private:
  static size_t known(const Env& env) {
    size_t n = 0;
    for (auto name : generated_secret_names())
      n += env.output(secret_output_key(name)) ? 1 : 0;
    for (auto name : {s::builder_robot_secret, s::puller_robot_secret})
      n += env.output(secret_output_key(name)) ? 1 : 0;
    return n;
  }
  // Key and certificate belong together, so the pair is generated and journaled as ONE output
  // (key PEM followed by certificate PEM) before the two named outputs are derived from it: a
  // crash between records can never leave a key whose certificate is lost, or change either.
  static Result<void> token_pair(Env& env) {
    TRY_ASSIGN(std::string both, ensure_secret(env, "harbor-token-pair", []() -> Result<std::string> {
                 TRY_ASSIGN(TokenKeyPair pair, token_keypair("harbor-token-ca"));
                 return pair.key_pem + pair.cert_pem;
               }));
    auto at = both.find("-----BEGIN CERTIFICATE-----");
    if (at == std::string::npos) {
      return common::fail(common::Errc::corrupt_state, "the journaled Harbor token pair has no certificate");
    }
    std::string key = both.substr(0, at);
    std::string cert = both.substr(at);
    if (env.output(secret_output_key(s::harbor_token_key)) != key) {
      TRY(env.put_output(secret_output_key(s::harbor_token_key), key, true));
    }
    if (env.output(secret_output_key(s::harbor_token_cert)) != cert) {
      TRY(env.put_output(secret_output_key(s::harbor_token_cert), cert, false));
    }
    return {};
  }
  FederationOptions m_options;
};

}  // namespace

std::unique_ptr<Step> make_secrets_step(const FederationOptions& o) {
  return std::make_unique<SecretsStep>(o);
}

}  // namespace binder::firstboot::federation
