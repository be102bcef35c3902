// Phone home (issue 12): with metadata `status_url`, the agent POSTs its status document (the
// same as `binder-firstboot status --json` without the cluster's release health; schema:
// firstboot/status.schema.json) at each step change, so a donor or the federation operators can
// follow the member without SSH.
//   - Content-Type application/json, User-Agent binder-firstboot; no credentials (the URL may
//     carry its own token in the query: it is never logged beyond its host).
//   - A background thread sends; post() never waits. A document not yet sent is replaced by a
//     newer one (only the latest state matters), so a slow receiver never queues up the boot.
//   - Each document: per-attempt timeout (default 10 s), bounded retries with exponential backoff
//     on connection errors, timeouts, 429 and 5xx (common::http::Client::send); any other status
//     is final. A document that is not delivered is logged as a warning and dropped: phone home
//     never fails the boot.
//   - Never a secret: every string of the document is scrubbed of the secret values given
//     (member and journaled secrets) and of those registered with the log.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http.hpp"

namespace binder::firstboot::app {

// The HTTP settings phone home uses unless told otherwise.
common::http::Options default_phone_home_http();

// `doc` with every string value scrubbed of `secrets` (console.hpp without_secrets()).
nlohmann::json scrub_document(const nlohmann::json& doc, const std::vector<std::string>& secrets);

class PhoneHome {
 public:
  PhoneHome(std::string url, common::http::Options http = default_phone_home_http());
  // Waits for the document in flight (bounded by its retries), then stops.
  ~PhoneHome();
  PhoneHome(const PhoneHome&) = delete;
  PhoneHome& operator=(const PhoneHome&) = delete;

  // Queues `doc` (already scrubbed) for sending, replacing one not yet sent. Never blocks on
  // the network.
  void post(nlohmann::json doc);
  // Waits until nothing is queued or in flight, at most `timeout`; true when idle.
  bool flush(std::chrono::milliseconds timeout);

  struct Counts {
    int delivered = 0;  // documents answered 2xx
    int failed = 0;     // documents given up on
    int replaced = 0;   // documents replaced before they were sent
  };
  Counts counts() const;

 private:
  void run(std::stop_token stop);
  bool send(const std::string& body);

  std::string m_url;
  std::string m_host;  // for logs
  common::http::Options m_http;
  mutable std::mutex m_mutex;
  std::condition_variable_any m_cv;
  std::optional<std::string> m_pending;
  bool m_busy = false;
  Counts m_counts;
  std::jthread m_thread;  // last: started after the members above exist
};

}  // namespace binder::firstboot::app
