// See release_health.hpp.
#include "firstboot/app/release_health.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "firstboot/k3s/k3s_files.hpp"
#include "firstboot/k3s/kube_client.hpp"
#include "firstboot/render/helmchart.hpp"

namespace binder::firstboot::app {

using nlohmann::json;

namespace {

constexpr std::string_view k_selector = "app.kubernetes.io/managed-by=binder-firstboot";

// The condition of `type` with status "True", or nullptr.
const json* true_condition(const json& object, std::string_view type) {
  const json* conds = nullptr;
  if (object.contains("status") && object["status"].is_object() && object["status"].contains("conditions") &&
      object["status"]["conditions"].is_array()) {
    conds = &object["status"]["conditions"];
  }
  if (conds == nullptr)
    return nullptr;
  for (const auto& c : *conds) {
    if (c.is_object() && c.value("type", "") == type && c.value("status", "") == "True") {
      return &c;
    }
  }
  return nullptr;
}

std::string condition_text(const json& c) {
  std::string msg = c.value("message", "");
  std::string reason = c.value("reason", "");
  if (!msg.empty())
    return reason.empty() ? msg : reason + ": " + msg;
  return reason.empty() ? "failed" : reason;
}

std::string name_of(const json& o) {
  return o.contains("metadata") && o["metadata"].is_object() ? o["metadata"].value("name", "") : "";
}

}  // namespace

std::vector<ReleaseProblem> release_problems(const std::vector<json>& helmcharts,
                                             const std::vector<json>& jobs) {
  std::map<std::string, const json*> job_by_name;
  for (const auto& j : jobs)
    job_by_name[name_of(j)] = &j;
  std::vector<ReleaseProblem> out;
  for (const auto& hc : helmcharts) {
    ReleaseProblem p;
    p.helmchart = name_of(hc);
    if (p.helmchart.empty())
      continue;
    std::string job_name;
    if (hc.contains("status") && hc["status"].is_object())
      job_name = hc["status"].value("jobName", "");
    bool named = !job_name.empty();  // the controller's status.jobName
    if (!named)
      job_name = "helm-install-" + p.helmchart;
    const json* job = job_by_name.contains(job_name) ? job_by_name[job_name] : nullptr;
    p.job = job != nullptr || named ? job_name : "";
    if (const json* c = true_condition(hc, "Failed")) {
      p.state = "failed";
      p.message = condition_text(*c);
    } else if (job != nullptr) {
      const json& st =
          job->contains("status") && (*job)["status"].is_object() ? (*job)["status"] : json::object();
      int failed = st.value("failed", 0);
      int succeeded = st.value("succeeded", 0);
      if (const json* jc = true_condition(*job, "Failed")) {
        p.state = "failed";
        p.message = condition_text(*jc);
      } else if (failed > 0 && succeeded == 0) {
        p.state = "failing";
        p.message = fmt::format("{} failed attempt{}, retrying", failed, failed == 1 ? "" : "s");
      }
    }
    if (!p.state.empty())
      out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(),
            [](const ReleaseProblem& a, const ReleaseProblem& b) { return a.helmchart < b.helmchart; });
  return out;
}

common::Result<std::vector<ReleaseProblem>> query_release_problems(KubeClient& kube) {
  TRY_ASSIGN(auto charts,
             kube.list("helm.cattle.io/v1", "HelmChart", render::k_helmchart_namespace, k_selector));
  TRY_ASSIGN(auto jobs, kube.list("batch/v1", "Job", render::k_helmchart_namespace));
  return release_problems(charts, jobs);
}

json releases_json(const common::Result<std::vector<ReleaseProblem>>& problems) {
  if (!problems) {
    return {{"checked", false}, {"error", problems.error().to_string()}, {"problems", json::array()}};
  }
  json list = json::array();
  for (const auto& p : *problems) {
    list.push_back({{"helmchart", p.helmchart}, {"job", p.job}, {"state", p.state}, {"message", p.message}});
  }
  return {{"checked", true}, {"error", ""}, {"problems", list}};
}

json collect_release_health(const std::filesystem::path& root) {
  std::filesystem::path kc = root / std::filesystem::path(k3s::k_kubeconfig_path.substr(1));
  std::error_code ec;
  if (!std::filesystem::exists(kc, ec))
    return nullptr;
  auto config = load_kubeconfig(kc);
  if (!config)
    return releases_json(std::unexpected(config.error()));
  common::http::Options o;
  o.connect_timeout = std::chrono::milliseconds(3000);
  o.request_timeout = std::chrono::milliseconds(10000);
  o.max_attempts = 1;
  KubeClient kube(std::move(*config), o);
  return releases_json(query_release_problems(kube));
}

}  // namespace binder::firstboot::app
