// Phone home. See phone_home.hpp.
#include "firstboot/app/phone_home.hpp"

#include "common/log.hpp"
#include "firstboot/app/console.hpp"

namespace binder::firstboot::app {

using nlohmann::json;
namespace http = common::http;
namespace log = common::log;

http::Options default_phone_home_http() {
  http::Options o;
  o.connect_timeout = std::chrono::seconds(10);
  o.request_timeout = std::chrono::seconds(10);
  o.max_attempts = 4;
  o.backoff_base = std::chrono::seconds(2);
  o.backoff_max = std::chrono::seconds(16);
  o.user_agent = "binder-firstboot";
  return o;
}

json scrub_document(const json& doc, const std::vector<std::string>& secrets) {
  if (doc.is_string())
    return without_secrets(doc.get<std::string>(), secrets);
  if (doc.is_object()) {
    json out = json::object();
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      out[without_secrets(it.key(), secrets)] = scrub_document(it.value(), secrets);
    }
    return out;
  }
  if (doc.is_array()) {
    json out = json::array();
    for (const auto& v : doc)
      out.push_back(scrub_document(v, secrets));
    return out;
  }
  return doc;
}

PhoneHome::PhoneHome(std::string url, http::Options options)
    : m_url(std::move(url)), m_http(std::move(options)) {
  auto u = http::parse_url(m_url);
  m_host = u ? u->host : "?";
  m_thread = std::jthread([this](std::stop_token stop) { run(stop); });
}

PhoneHome::~PhoneHome() {
  m_thread.request_stop();
  m_cv.notify_all();
  // jthread joins: the document in flight finishes (bounded by its attempts and timeouts).
}

void PhoneHome::post(json doc) {
  std::string body = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  {
    std::lock_guard lock(m_mutex);
    if (m_pending)
      ++m_counts.replaced;
    m_pending = std::move(body);
  }
  m_cv.notify_all();
}

bool PhoneHome::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_mutex);
  return m_cv.wait_for(lock, timeout, [&] { return !m_pending && !m_busy; });
}

PhoneHome::Counts PhoneHome::counts() const {
  std::lock_guard lock(m_mutex);
  return m_counts;
}

void PhoneHome::run(std::stop_token stop) {
  http::Client client(m_http);
  for (;;) {
    std::string body;
    {
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, stop, [&] { return m_pending.has_value(); });
      if (!m_pending)
        return;  // stop requested with nothing left to send
      body = std::move(*m_pending);
      m_pending.reset();
      m_busy = true;
    }
    http::Request req{"POST", m_url, {{"Content-Type", "application/json"}}, body};
    auto resp = client.send(req);
    bool ok = resp && resp->status / 100 == 2;
    if (!ok) {
      // The URL's path and query may carry a token: only the host is named.
      log::warn("phone home to '{}': {}, ignoring", m_host,
                resp ? fmt::format("HTTP {}", resp->status) : resp.error().message);
    }
    {
      std::lock_guard lock(m_mutex);
      ++(ok ? m_counts.delivered : m_counts.failed);
      m_busy = false;
    }
    m_cv.notify_all();
  }
}

}  // namespace binder::firstboot::app
