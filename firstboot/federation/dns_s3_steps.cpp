// dns:records (Cloudflare A records for X and *.X) and s3:lifecycle (the registry bucket aborts
// incomplete multipart uploads after a day). Both read the remote state first and write only
// what differs; a member without a dns section or S3 storage skips the step with a note.
#include "common/hash.hpp"
#include "common/log.hpp"
#include "firstboot/clients/cloudflare.hpp"
#include "firstboot/clients/s3.hpp"
#include "firstboot/federation/context.hpp"
#include "firstboot/render/api_requests.hpp"
#include "firstboot/render/artifacts.hpp"

namespace binder::firstboot::federation {

namespace log = common::log;
namespace clients = firstboot::clients;

namespace {

class DnsStep : public Step {
 public:
  explicit DnsStep(FederationOptions o) : m_options(std::move(o)) {}
  std::string_view id() const override { return "dns:records"; }
  std::string describe(const Env& env) const override {
    if (!env.member.dns)
      return "no dns section: DNS records are left to the operator";
    return fmt::format("A records '{}' and '*.{}' -> {} in Cloudflare zone '{}'{}", env.member.fqdn(),
                       env.member.fqdn(), render::public_ip_of(env.member, env.facts),
                       render::dns_zone(env.member),
                       env.member.dns->zone_id.empty() ? "" : " (id " + env.member.dns->zone_id + ")");
  }
  std::string fingerprint(const Env& env) const override {
    std::string zone_id = env.member.dns ? env.member.dns->zone_id : "";
    if (!zone_id.empty()) {  // only then: journals of members without one keep their fingerprint
      return fingerprint_of({"v1", env.member.fqdn(), render::public_ip_of(env.member, env.facts),
                             render::dns_zone(env.member), "dns", m_options.cloudflare_api, zone_id});
    }
    return fingerprint_of({"v1", env.member.fqdn(), render::public_ip_of(env.member, env.facts),
                           render::dns_zone(env.member), env.member.dns ? "dns" : "none",
                           m_options.cloudflare_api});
  }
  Result<Outcome> apply(Env& env) override {
    if (!env.member.dns) {
      log::info("no dns section in the metadata: create the A records for '{}' yourself", env.member.fqdn());
      return Outcome::unchanged;
    }
    TRY_ASSIGN(std::string ip, public_ip(env));
    clients::Cloudflare cf(m_options.cloudflare_api, env.member.dns->api_token, m_options.http);
    // dns.zone_id skips the lookup, which needs Zone:Zone:Read: a token with Zone:DNS:Edit alone works.
    std::string zone_id = env.member.dns->zone_id;
    if (zone_id.empty()) {
      TRY_ASSIGN(zone_id, cf.zone_id(render::dns_zone(env.member)));
    }
    Outcome outcome = Outcome::unchanged;
    for (const auto& body : render::dns_records(env.member, ip)) {
      clients::DnsRecord want{"",
                              body.value("type", "A"),
                              body.value("name", ""),
                              body.value("content", ip),
                              body.value("proxied", false),
                              body.value("ttl", 1),
                              body.value("comment", "")};
      TRY_ASSIGN(clients::Change c, cf.ensure_record(zone_id, want));
      log::info("DNS {} {} -> {}: {}", want.type, want.name, want.content, clients::to_string(c));
      if (c != clients::Change::unchanged)
        outcome = Outcome::changed;
    }
    return outcome;
  }

 private:
  FederationOptions m_options;
};

class S3Step : public Step {
 public:
  explicit S3Step(FederationOptions o) : m_options(std::move(o)) {}
  std::string_view id() const override { return "s3:lifecycle"; }
  std::string describe(const Env& env) const override {
    if (!has_s3(env))
      return "no S3 storage: nothing to do";
    return fmt::format("bucket '{}': abort incomplete multipart uploads after 1 day",
                       env.member.registry->s3->bucket);
  }
  std::string fingerprint(const Env& env) const override {
    if (!has_s3(env))
      return fingerprint_of({"v1", "none"});
    const auto& s3 = *env.member.registry->s3;
    return fingerprint_of(
        {"v1", endpoint(env), s3.region, s3.bucket, common::hash::sha256_hex(s3.access_key)});
  }
  Result<Outcome> apply(Env& env) override {
    if (!has_s3(env)) {
      log::info("the registry has no S3 storage: no bucket lifecycle to set");
      return Outcome::unchanged;
    }
    const auto& s3 = *env.member.registry->s3;
    clients::S3Config config{endpoint(env), s3.region,     s3.bucket,
                             s3.access_key, s3.secret_key, clients::S3Addressing::automatic};
    clients::S3 client(config, m_options.http, [&env] { return env.clock.now(); });
    TRY_ASSIGN(clients::Change c, client.ensure_abort_multipart(1));
    return c == clients::Change::unchanged ? Outcome::unchanged : Outcome::changed;
  }

 private:
  static bool has_s3(const Env& env) { return env.member.registry && env.member.registry->s3; }
  std::string endpoint(const Env& env) const {
    return m_options.s3_endpoint.empty() ? env.member.registry->s3->endpoint : m_options.s3_endpoint;
  }
  FederationOptions m_options;
};

}  // namespace

std::unique_ptr<Step> make_dns_step(const FederationOptions& o) { return std::make_unique<DnsStep>(o); }
std::unique_ptr<Step> make_s3_step(const FederationOptions& o) { return std::make_unique<S3Step>(o); }

}  // namespace binder::firstboot::federation
