// `binder-firstboot handover`: ends the VM's management of its Helm releases so that central
// mybinder.org CD (`deploy.py <cluster>`) owns them (issue 10). On the member's server node:
//   1. finds the HelmCharts to hand over: every HelmChart in kube-system labelled
//      app.kubernetes.io/managed-by=binder-firstboot (render::helmchart_manifest sets it), so it
//      works for whatever chart set the agent deployed;
//   1b. refuses (Errc::temporary, nothing changed) while a chart's helm Job is still running:
//      deleting the HelmChart would garbage-collect that Job half-way through an upgrade;
//   2. writes the handover bundle (render/handover_bundle.hpp) into export/handover/, 0600, from
//      the files the export step wrote (byte for byte what the member deployed);
//   3. journals step "handover" begin (output handover.charts = their names), then sets the
//      annotation helmcharts.helm.cattle.io/unmanaged on every one (the helm-controller then
//      starts no Job for it, mirror/README.md facts (a)), then deletes every one: the releases,
//      their Secrets and data stay; journals "done".
// Idempotent: a crash anywhere converges on rerun (annotated charts are not annotated again;
// charts already deleted are not listed; a begun handover with nothing left just records done).
// A completed handover reruns as "already handed over": exit 0, nothing written.
// Refused (Errc::precondition, nothing changed): an agent node, a standalone member, a member
// whose agent never loaded metadata or never created a HelmChart, missing export files.
//
// After handover the agent must not re-create the charts: run_agent() checks handed_over() and
// then runs the host and k3s steps only (journal key: last state of step "handover" is done).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "firstboot/env.hpp"
#include "firstboot/federation/options.hpp"
#include "firstboot/journal.hpp"

namespace binder::firstboot::federation {

inline constexpr std::string_view k_handover_step = "handover";
inline constexpr std::string_view k_handover_charts_key = "handover.charts";
inline constexpr std::string_view k_unmanaged_annotation = "helmcharts.helm.cattle.io/unmanaged";
inline constexpr std::string_view k_managed_by_selector = "app.kubernetes.io/managed-by=binder-firstboot";
inline constexpr std::string_view k_handover_dir = "/var/lib/binder-firstboot/export/handover";

// True when the journal records a completed handover.
bool handed_over(const Journal& journal);
// The time of the completed handover ("2026-12-03T07:00:00Z"), empty if none.
std::string handover_time(const Journal& journal);

struct HandedOverChart {
  std::string name;              // HelmChart kube-system/<name>
  std::string target_namespace;  // where its release lives
  bool annotated = false;        // this run set the annotation
  bool deleted = false;          // this run deleted the CR
};

struct HandoverReport {
  bool already = false;  // a completed handover found: nothing done
  std::string time;      // of the (completed) handover
  std::vector<HandedOverChart> charts;
  std::filesystem::path bundle_dir;
  std::vector<std::string> bundle_files;  // relative to bundle_dir
  bool bundle_written = false;            // some bundle file changed
  nlohmann::json to_json() const;
};

// Runs the handover against the cluster in options.kubeconfig (under root).
Result<HandoverReport> run_handover(const std::filesystem::path& root, const FederationOptions& options,
                                    Clock& clock);

}  // namespace binder::firstboot::federation
