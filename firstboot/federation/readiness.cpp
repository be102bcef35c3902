// The readiness checks and the in-rotation test; see readiness.hpp. Pure of the Env: what the
// steps (readiness_steps.cpp) loop over.
#include "firstboot/federation/readiness.hpp"

#include <fmt/format.h>

#include "firstboot/render/charts.hpp"

namespace binder::firstboot::federation {

using nlohmann::json;

namespace {

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// BinderHub's /health body: {"ok": bool, "checks": [{"service", "ok"}...]}; the services not ok.
std::string unhealthy_services(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || j["ok"] != false)
    return {};
  std::string out;
  for (const auto& c : j.value("checks", json::array())) {
    if (c.is_object() && c.value("ok", true) == false) {
      out += (out.empty() ? "" : ", ") + c.value("service", std::string("?"));
    }
  }
  return out.empty() ? "unknown" : out;
}

}  // namespace

std::vector<ReadinessCheck> readiness_checks(const Member& m) {
  std::vector<ReadinessCheck> checks;
  checks.push_back({"binder", "https://" + render::binder_host(m) + "/health"});
  checks.push_back({"hub", "https://" + render::hub_host(m) + "/hub/health"});
  if (m.registry && !m.registry->harbor()) {
    std::string url = m.registry->url;
    while (!url.empty() && url.back() == '/')
      url.pop_back();
    // Docker Hub's documented registry URL is index.docker.io/v1/; the registry API is /v2/.
    if (url.ends_with("/v1"))
      url.resize(url.size() - 3);
    checks.push_back({"registry", url + "/v2/"});
  } else {
    checks.push_back({"registry", "https://" + render::registry_host(m) + "/api/v2.0/ping"});
  }
  if (m.mode == Mode::federation) {
    checks.push_back({"versions", "https://" + render::binder_host(m) + "/versions"});
  }
  return checks;
}

std::string versions_difference(const json& ours, const json& prime, const std::string& prime_url) {
  if (ours == prime)
    return {};
  std::string diff;
  if (ours.is_object() && prime.is_object()) {
    for (const auto& [k, v] : prime.items()) {
      if (!ours.contains(k)) {
        diff += fmt::format("{}{} missing != {}", diff.empty() ? "" : ", ", k, text_of(v));
      } else if (ours[k] != v) {
        diff += fmt::format("{}{} {} != {}", diff.empty() ? "" : ", ", k, text_of(ours[k]), text_of(v));
      }
    }
    for (const auto& [k, v] : ours.items()) {
      if (!prime.contains(k))
        diff += fmt::format("{}{} {} != missing", diff.empty() ? "" : ", ", k, text_of(v));
    }
  } else {
    diff = fmt::format("{} != {}", ours.dump(), prime.dump());
  }
  return fmt::format("versions differ from prime {}: {}", prime_url, diff);
}

std::optional<ReadinessFailure> readiness_round(const Member& m, clients::HttpsProbe& probe) {
  for (const auto& c : readiness_checks(m)) {
    clients::ProbeAnswer a = probe.get(c.url, c.name == "versions" ? "application/json" : "");
    if (c.name == "registry" && m.registry && !m.registry->harbor() && a.status == 401) {
      continue;  // a registry that wants credentials answers
    }
    if (!a.ok())
      return ReadinessFailure{a.cause, false};
    if (c.name == "binder") {
      if (auto bad = unhealthy_services(a.body); !bad.empty()) {
        return ReadinessFailure{fmt::format("{}: BinderHub unhealthy ({})", c.url, bad), false};
      }
    }
    if (c.name == "versions") {
      auto ours = json::parse(a.body, nullptr, false);
      if (ours.is_discarded())
        return ReadinessFailure{c.url + ": not JSON", false};
      clients::ProbeAnswer p = probe.get(m.readiness.prime_versions_url, "application/json");
      if (!p.ok())
        return ReadinessFailure{"the prime's versions: " + p.cause, false};
      auto prime = json::parse(p.body, nullptr, false);
      if (prime.is_discarded())
        return ReadinessFailure{m.readiness.prime_versions_url + ": not JSON", false};
      if (auto d = versions_difference(ours, prime, m.readiness.prime_versions_url); !d.empty()) {
        return ReadinessFailure{d, true};
      }
    }
  }
  return std::nullopt;
}

std::optional<ReadinessFailure> test_launch(const Member& m, clients::HttpsProbe& probe,
                                            std::chrono::milliseconds timeout) {
  std::string url = "https://" + render::binder_host(m) + "/build/" + m.readiness.test_launch;
  clients::ProbeAnswer a = probe.get(url, "text/event-stream", timeout);
  if (!a.ok())
    return ReadinessFailure{"test launch: " + a.cause, false};
  std::string last;
  for (const auto& e : clients::parse_event_stream(a.body)) {
    std::string phase = e.value("phase", "");
    if (phase == "ready")
      return std::nullopt;
    if (phase == "failed") {
      std::string msg = e.value("message", "");
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r'))
        msg.pop_back();
      return ReadinessFailure{fmt::format("test launch of '{}' failed: {}", m.readiness.test_launch, msg),
                              true};
    }
    if (!phase.empty())
      last = phase;
  }
  return ReadinessFailure{
      fmt::format("test launch of '{}': the event stream ended in phase '{}', not 'ready'",
                  m.readiness.test_launch, last.empty() ? "none" : last),
      false};
}

bool listed_in_active_hosts(const json& doc, const Member& m) {
  if (!doc.is_object() || !doc.contains("active_hosts"))
    return false;
  const json& hosts = doc["active_hosts"];
  std::string url = "https://" + render::binder_host(m);
  auto matches = [&](const std::string& key, const json& h) {
    if (key == m.cluster())
      return true;
    if (!h.is_object())
      return false;
    std::string u = h.value("url", "");
    while (!u.empty() && u.back() == '/')
      u.pop_back();
    return u == url;
  };
  if (hosts.is_object()) {
    for (const auto& [k, h] : hosts.items()) {
      if (matches(k, h))
        return true;
    }
  } else if (hosts.is_array()) {  // a list of names or URLs
    for (const auto& h : hosts) {
      if (h.is_string() && (h.get<std::string>() == m.cluster() || h.get<std::string>() == url))
        return true;
      if (h.is_object() && matches("", h))
        return true;
    }
  }
  return false;
}

}  // namespace binder::firstboot::federation
