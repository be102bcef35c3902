// binder-firstboot handover. See handover.hpp.
#include "firstboot/federation/handover.hpp"

#include <algorithm>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "firstboot/federation/steps.hpp"
#include "firstboot/k3s/kube_client.hpp"
#include "firstboot/metadata/load.hpp"
#include "firstboot/metadata/validate.hpp"
#include "firstboot/render/charts.hpp"
#include "firstboot/render/handover_bundle.hpp"
#include "firstboot/render/helmchart.hpp"
#include "firstboot/render/member_overrides.hpp"
#include "firstboot/render/mybinder_files.hpp"
#include "firstboot/runner.hpp"

namespace binder::firstboot::federation {

namespace fs = common::fs;
namespace log = common::log;
using nlohmann::json;

namespace {

std::filesystem::path under(const std::filesystem::path& root, std::string_view abs) {
  return root / std::filesystem::path(abs.substr(1));
}

// The Member the agent deployed with (its normalized copy, written by the metadata step).
Result<Member> saved_member(const std::filesystem::path& root) {
  auto path = under(root, k_member_json_path);
  TRY_ASSIGN(auto text, fs::read_file_if_exists(path));
  if (!text) {
    return common::fail(Errc::precondition,
                        "nothing to hand over: {} does not exist (binder-firstboot run never loaded "
                        "this member's metadata)",
                        path.string());
  }
  TRY_ASSIGN(SourceDoc doc, parse_json_doc(*text, path.string()));
  register_doc_secrets(doc);
  return member_from_doc(doc);
}

Result<std::string> read_export(const std::filesystem::path& root, const std::string& rel) {
  auto path = under(root, k_export_dir) / rel;
  TRY_ASSIGN(auto text, fs::read_file_if_exists(path));
  if (!text) {
    return common::fail(Errc::precondition,
                        "{} is missing: the export step has not run (finish `binder-firstboot run` "
                        "before the handover)",
                        path.string());
  }
  return *text;
}

// Writes every bundle file 0600 (folders 0700) unless it already holds exactly that text.
Result<bool> write_bundle(const std::filesystem::path& dir, const std::vector<render::BundleFile>& files) {
  bool changed = false;
  for (const auto& f : files) {
    auto path = dir / f.path;
    TRY(fs::make_directories(path.parent_path(), 0700));
    TRY_ASSIGN(auto old, fs::read_file_if_exists(path));
    if (old && *old == f.text)
      continue;
    TRY(fs::write_file_atomic(path, f.text, 0600));
    changed = true;
  }
  return changed;
}

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t b = 0; b <= s.size();) {
    std::size_t e = std::min(s.find(',', b), s.size());
    if (e > b)
      out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

Result<bool> annotate(KubeClient& kube, json chart) {
  auto& ann = chart["metadata"]["annotations"];
  if (ann.is_object() && ann.contains(std::string(k_unmanaged_annotation)))
    return false;
  for (int attempt = 0;; ++attempt) {
    chart["metadata"]["annotations"][std::string(k_unmanaged_annotation)] = "true";
    auto r = kube.replace(chart);  // PUT with the listed resourceVersion
    if (r)
      return true;
    if (r.error().code != Errc::temporary || attempt > 0)
      return std::unexpected(r.error());
    // 409 Conflict: changed meanwhile (the controller's status update); re-read and retry once.
    TRY_ASSIGN(auto live, kube.get(ObjectRef::of(chart)));
    if (!live)
      return false;  // gone meanwhile
    chart = *live;
  }
}

}  // namespace

bool handed_over(const Journal& journal) {
  auto s = journal.last_state(k_handover_step);
  return s && s->event == JournalEvent::done;
}

std::string handover_time(const Journal& journal) {
  return handed_over(journal) ? journal.last_state(k_handover_step)->time : std::string();
}

json HandoverReport::to_json() const {
  json charts_doc = json::array();
  for (const auto& c : charts) {
    charts_doc.push_back({{"name", c.name},
                          {"namespace", std::string(render::k_helmchart_namespace)},
                          {"target_namespace", c.target_namespace},
                          {"annotated", c.annotated},
                          {"deleted", c.deleted}});
  }
  return {{"result", already ? "already handed over" : "handed over"},
          {"time", time},
          {"charts", charts_doc},
          {"bundle", {{"dir", bundle_dir.string()}, {"files", bundle_files}, {"written", bundle_written}}}};
}

Result<HandoverReport> run_handover(const std::filesystem::path& root, const FederationOptions& options,
                                    Clock& clock) {
  HandoverReport report;
  report.bundle_dir = under(root, k_handover_dir);
  // Not next to a running agent (it may be creating the very charts).
  TRY_ASSIGN(RunLock lock, RunLock::acquire(under(root, k_lock_path)));
  auto journal_path = under(root, k_journal_path);
  TRY_ASSIGN(Journal seen, Journal::read(journal_path));
  TRY_ASSIGN(Member member, saved_member(root));
  if (member.node.role == NodeRole::agent) {
    return common::fail(Errc::precondition,
                        "this is an agent node of member '{}': run the handover on its server node",
                        member.name);
  }
  if (member.mode != Mode::federation) {
    return common::fail(Errc::precondition,
                        "member '{}' is standalone: only federation members are handed over to "
                        "mybinder.org's central deploy",
                        member.name);
  }

  auto already = [&] {
    report.already = true;
    report.time = handover_time(seen);
    for (const auto& name : split_names(seen.get(k_handover_charts_key).value_or(""))) {
      report.charts.push_back({name, "", false, false});
    }
    return report;
  };
  auto listed = [&]() -> Result<std::pair<KubeClient, std::vector<json>>> {
    TRY_ASSIGN(KubeConfig config, load_kubeconfig(under(root, options.kubeconfig)));
    common::http::Options http = options.http;
    http.ca_file.clear();  // the cluster CA comes from the kubeconfig
    http.ca_pem.clear();
    KubeClient client(std::move(config), http);
    TRY_ASSIGN(auto items, client.list("helm.cattle.io/v1", "HelmChart", render::k_helmchart_namespace,
                                       k_managed_by_selector));
    return std::pair<KubeClient, std::vector<json>>(std::move(client), std::move(items));
  }();
  if (!listed) {
    if (handed_over(seen)) {  // nothing to do anyway; the cluster may be down
      log::warn("cannot list the HelmCharts ({}); the journal says handed over", listed.error().to_string());
      return already();
    }
    return std::unexpected(listed.error());
  }
  KubeClient& kube = listed->first;
  std::vector<json>& charts = listed->second;

  bool begun = seen.get(k_handover_charts_key).has_value();
  if (charts.empty() && handed_over(seen))
    return already();
  if (charts.empty() && !begun) {
    return common::fail(Errc::precondition,
                        "nothing to hand over: no HelmChart in namespace {} is labelled {} (the "
                        "agent never deployed this member's charts)",
                        render::k_helmchart_namespace, k_managed_by_selector);
  }
  if (!charts.empty() && handed_over(seen)) {
    log::warn("{} HelmChart(s) labelled {} appeared after the handover of {}; handing them over too",
              charts.size(), k_managed_by_selector, handover_time(seen));
  }

  // A helm job still running (install or upgrade) would be killed half-way when its HelmChart
  // goes (the Job is owned by it): wait for it instead.
  for (std::size_t i = 0; i < charts.size(); ++i) {
    std::string job = charts[i].contains("status") ? charts[i]["status"].value("jobName", "") : "";
    if (job.empty())
      continue;
    auto live = kube.get(ObjectRef{"batch/v1", "Job", std::string(render::k_helmchart_namespace), job});
    if (!live)
      return std::unexpected(live.error());
    if (*live && (**live).contains("status") && (**live)["status"].value("active", 0) > 0) {
      return common::fail(Errc::temporary,
                          "HelmChart {}: its helm Job '{}' is still running; rerun the handover when it "
                          "has finished",
                          charts[i]["metadata"].value("name", ""), job);
    }
  }
  // The bundle first: local files only, so a failure here leaves the cluster untouched.
  std::string cluster = member.cluster();
  render::HandoverInputs in;
  in.cluster = cluster;
  in.binder_host = render::binder_host(member);
  for (const auto& o : render::member_overrides()) {
    in.member_overrides.push_back(fmt::format("{}={}: {}", o.key, o.value, o.reason));
  }
  for (const auto& v : render::central_only_values()) {
    in.central_only.push_back(fmt::format("{}: {}", v.key, v.consequence));
  }
  TRY_ASSIGN(in.config_text, read_export(root, render::mybinder_config_path(member)));
  TRY_ASSIGN(in.secrets_text, read_export(root, render::mybinder_secrets_path(member)));
  auto kc = read_export(root, cluster + "-kubeconfig.yaml");
  if (!kc && cluster != member.name)
    kc = read_export(root, member.name + "-kubeconfig.yaml");
  if (!kc)
    return std::unexpected(kc.error());
  in.kubeconfig_text = *kc;
  auto files = render::handover_bundle(in);
  TRY_ASSIGN(report.bundle_written, write_bundle(report.bundle_dir, files));
  for (const auto& f : files)
    report.bundle_files.push_back(f.path);

  TRY_ASSIGN(Journal journal, Journal::open(journal_path, clock));
  std::string names;
  for (const auto& c : charts) {
    std::string n = c["metadata"].value("name", "");
    names += (names.empty() ? "" : ",") + n;
    report.charts.push_back(
        {n, c.contains("spec") ? c["spec"].value("targetNamespace", "") : "", false, false});
  }
  if (begun && !handed_over(seen)) {
    // A handover that stopped half-way: keep the names of the charts it already deleted.
    for (const auto& n : split_names(*seen.get(k_handover_charts_key))) {
      if (("," + names + ",").find("," + n + ",") == std::string::npos)
        names += (names.empty() ? "" : ",") + n;
    }
  }
  auto fail = [&](const Error& e) -> Result<HandoverReport> {
    (void)journal.append(k_handover_step, "", JournalEvent::failed, e.to_string());
    return std::unexpected(e);
  };
  if (auto r = journal.append(k_handover_step, "", JournalEvent::begin, {},
                              {{std::string(k_handover_charts_key), names}});
      !r) {
    return std::unexpected(r.error());
  }
  // All annotated before any is deleted: from then on no deletion can start an uninstall.
  for (std::size_t i = 0; i < charts.size(); ++i) {
    auto a = annotate(kube, charts[i]);
    if (!a)
      return fail(a.error().with_context("annotating HelmChart " + report.charts[i].name));
    report.charts[i].annotated = *a;
    if (*a)
      log::info("HelmChart {}/{}: annotated {}", render::k_helmchart_namespace, report.charts[i].name,
                k_unmanaged_annotation);
  }
  for (std::size_t i = 0; i < charts.size(); ++i) {
    auto d = kube.remove(ObjectRef::of(charts[i]));
    if (!d)
      return fail(d.error().with_context("deleting HelmChart " + report.charts[i].name));
    report.charts[i].deleted = *d;
    log::info("HelmChart {}/{}: deleted; release '{}' in namespace '{}' stays", render::k_helmchart_namespace,
              report.charts[i].name, report.charts[i].name, report.charts[i].target_namespace);
  }
  std::string detail = fmt::format("handed over: {}", names);
  if (auto r = journal.append(k_handover_step, "", JournalEvent::done, detail); !r) {
    return std::unexpected(r.error());
  }
  report.time = handover_time(journal);
  return report;
}

}  // namespace binder::firstboot::federation
