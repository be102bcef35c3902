// The `readiness` and `in-rotation` steps (readiness.hpp): loops over the checks on the Env's
// clock within the metadata's bounds. Neither changes anything, so both report "unchanged".
#include <ctime>

#include "common/log.hpp"
#include "firstboot/env.hpp"
#include "firstboot/federation/readiness.hpp"
#include "firstboot/render/charts.hpp"

namespace binder::firstboot::federation {

namespace log = common::log;
using common::fail;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::minutes;

namespace {

std::string utc(std::chrono::system_clock::time_point t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Requests never outlive the deadline by more than this.
constexpr milliseconds k_request_timeout{20'000};

class ReadinessStep : public Step {
 public:
  explicit ReadinessStep(FederationOptions o) : m_options(std::move(o)) {}
  std::string_view id() const override { return k_readiness_step; }
  std::string describe(const Env& env) const override {
    std::string out;
    for (const auto& c : readiness_checks(env.member))
      out += (out.empty() ? "" : ", ") + c.url;
    if (!env.member.readiness.test_launch.empty())
      out += ", test launch of '" + env.member.readiness.test_launch + "'";
    return fmt::format("HTTPS through the public names within {} min: {}",
                       env.member.readiness.timeout_minutes, out);
  }
  std::string fingerprint(const Env& env) const override {
    std::vector<std::string> f{"v1", env.member.readiness.prime_versions_url,
                               env.member.readiness.test_launch};
    for (const auto& c : readiness_checks(env.member))
      f.push_back(c.url);
    return fingerprint_of(f);
  }

  Result<Outcome> apply(Env& env) override {
    const ReadinessConfig& rc = env.member.readiness;
    common::http::Options http = m_options.http;
    http.request_timeout = k_request_timeout;
    http.connect_timeout = std::min(http.connect_timeout, k_request_timeout);
    clients::HttpsProbe probe(http);
    auto start = env.clock.now();
    auto deadline = start + minutes(rc.timeout_minutes);
    std::string last_cause;
    for (;;) {
      auto failure = readiness_round(env.member, probe);
      if (!failure && !rc.test_launch.empty()) {
        auto left = duration_cast<milliseconds>(deadline - env.clock.now());
        log::info("HTTPS checks pass; test launch of '{}'", rc.test_launch);
        failure = test_launch(env.member, probe, std::max(left, k_request_timeout));
        if (failure && failure->permanent) {
          return fail(Errc::precondition, "{}", failure->cause);
        }
      }
      if (!failure) {
        log::notice("ready: https://{} answers through its public names with a valid certificate",
                    render::binder_host(env.member));
        TRY(env.put_output(k_ready_at_key, utc(env.clock.now())));
        return Outcome::unchanged;
      }
      if (failure->cause != last_cause) {
        log::info("not ready yet: {}", failure->cause);  // once per new cause, not per round
        last_cause = failure->cause;
      }
      if (env.clock.now() + m_options.poll_interval > deadline) {
        int waited = static_cast<int>(duration_cast<minutes>(env.clock.now() - start).count());
        return fail(failure->permanent ? Errc::precondition : Errc::temporary,
                    "{} (still failing after {} min)", failure->cause, std::max(waited, rc.timeout_minutes));
      }
      env.clock.sleep(m_options.poll_interval);
    }
  }

 private:
  FederationOptions m_options;
};

class InRotationStep : public Step {
 public:
  explicit InRotationStep(FederationOptions o) : m_options(std::move(o)) {}
  std::string_view id() const override { return k_in_rotation_step; }
  std::string describe(const Env& env) const override {
    return fmt::format("wait up to {} min for '{}' in {} (read-only)",
                       env.member.readiness.rotation_timeout_minutes, env.member.cluster(),
                       env.member.readiness.active_hosts_url);
  }
  std::string fingerprint(const Env& env) const override {
    return fingerprint_of({"v1", env.member.readiness.active_hosts_url, env.member.cluster()});
  }

  Result<Outcome> apply(Env& env) override {
    const ReadinessConfig& rc = env.member.readiness;
    common::http::Options http = m_options.http;
    http.request_timeout = k_request_timeout;
    clients::HttpsProbe probe(http);
    auto start = env.clock.now();
    auto deadline = start + minutes(rc.rotation_timeout_minutes);
    // The redirector checks its hosts every 10 s; asking it every 30 s is plenty.
    milliseconds interval = std::max(m_options.poll_interval * 6, milliseconds(1));
    std::string last;
    for (;;) {
      clients::ProbeAnswer a = probe.get(rc.active_hosts_url, "application/json");
      if (a.ok()) {
        auto doc = nlohmann::json::parse(a.body, nullptr, false);
        if (!doc.is_discarded() && listed_in_active_hosts(doc, env.member)) {
          std::string status =
              fmt::format("in rotation: listed by {} at {}", rc.active_hosts_url, utc(env.clock.now()));
          log::notice("{}", status);
          TRY(env.put_output(k_rotation_status_key, status));
          return Outcome::unchanged;
        }
        last = doc.is_discarded()
                   ? rc.active_hosts_url + ": not JSON"
                   : fmt::format("'{}' not listed by {}", env.member.cluster(), rc.active_hosts_url);
      } else {
        last = a.cause;
      }
      if (env.clock.now() + interval > deadline)
        break;
      env.clock.sleep(interval);
    }
    std::string status = fmt::format(
        "not in rotation after {} min ({}); the federation operators add "
        "members to the redirector",
        rc.rotation_timeout_minutes, last);
    log::warn("{}, ignoring", status);
    TRY(env.put_output(k_rotation_status_key, status));
    return Outcome::unchanged;
  }

 private:
  FederationOptions m_options;
};

}  // namespace

std::unique_ptr<Step> make_readiness_step(const FederationOptions& options) {
  return std::make_unique<ReadinessStep>(options);
}

std::unique_ptr<Step> make_in_rotation_step(const FederationOptions& options) {
  return std::make_unique<InRotationStep>(options);
}

}  // namespace binder::firstboot::federation
