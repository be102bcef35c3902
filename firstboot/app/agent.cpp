// binder-firstboot run. See agent.hpp.
#include "firstboot/app/agent.hpp"

#include <cstdlib>
#include <filesystem>

#include "common/fs.hpp"
#include "common/hash.hpp"
#include "common/log.hpp"
#include "firstboot/app/reporter.hpp"
#include "firstboot/app/timeline.hpp"
#include "firstboot/facts.hpp"
#include "firstboot/federation/handover.hpp"
#include "firstboot/image_defaults.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/metadata/load.hpp"
#include "firstboot/runner.hpp"

namespace binder::firstboot::app {

namespace log = common::log;

namespace {

// Logs under the current prefix (the step that failed, if any).
int fail_with(const Error& e) {
  log::error("{}", e.to_string());
  return common::exit_code_for(e);
}

// The agent's own steps (steps.hpp: metadata, facts) run before the Env exists; a failure is
// journaled like a runner step's ("failed <error>", which `status` shows), then logged.
int own_step_failed(Journal& journal, std::string_view id, const Error& e) {
  if (auto r = journal.append_failure(id, "", e); !r) {
    log::warn("could not journal the failure: {}, ignoring", r.error().to_string());
  }
  return fail_with(e);
}

// Step "metadata" (DESIGN.md §6 step 1): done (with the member's fingerprint) when it changed.
Result<Member> metadata_step(const AgentOptions& o, CommandRunner& runner, Journal& journal) {
  log::set_prefix(fmt::format("step '{}': ", k_metadata_step));
  LoadOptions lo{o.root, o.metadata_file, o.root == "/"};
  auto loaded = load_member(lo, runner);
  if (!loaded) {
    return std::unexpected(loaded.error());
  }
  std::string fp = fingerprint_of({loaded->member.to_json().dump()});
  for (const auto& s : loaded->sources) {
    log::info("source '{}'", s);
  }
  if (!journal.is_complete(k_metadata_step, fp)) {
    TRY(journal.append(k_metadata_step, fp, JournalEvent::begin));
    TRY(save_member_json(o.root, loaded->member));
    TRY(journal.append(k_metadata_step, fp, JournalEvent::done, "changed"));
    log::info("member '{}' ({}, {}) loaded from {} source(s)", loaded->member.fqdn(),
              to_string(loaded->member.mode), to_string(loaded->member.node.role), loaded->sources.size());
  }
  log::set_prefix("");
  return loaded->member;
}

// The run itself; run_agent() adds the final report.
int run(const AgentOptions& o, CommandRunner& runner, Clock& clock, Reporter& reporter) {
  // Only one agent at a time (a manual run next to the service).
  auto lock = RunLock::acquire(o.root / std::string(k_lock_path).substr(1));
  if (!lock) {
    return fail_with(lock.error());
  }
  auto journal = Journal::open(o.root / std::string(k_journal_path).substr(1), clock);
  if (!journal) {
    return fail_with(journal.error());
  }
  // On the VM: this boot's id and when the network came online, once per boot (the timeline).
  if (o.root == "/") {
    if (auto r = record_boot(*journal, read_boot_info(runner)); !r) {
      log::warn("recording the boot in the journal: {}, ignoring", r.error().to_string());
    }
  }
  reporter.step_changed();  // the console says we started
  // 1. metadata: gather, merge, validate, keep the normalized copy.
  auto member = metadata_step(o, runner, *journal);
  if (!member) {
    Error e = member.error();
    if (e.code == Errc::invalid_config && e.hint.empty()) {
      // Exit 2 is not retried by systemd (binder-firstboot.service).
      e.hint =
          "fix the member metadata (user-data or /etc/binder-image/member.d/), then "
          "systemctl restart binder-firstboot";
    }
    return own_step_failed(*journal, k_metadata_step, e);
  }
  reporter.set_member(*member);
  reporter.step_changed();
  // Machine facts: RAM, CPUs, the public IP and where it came from.
  log::set_prefix(fmt::format("step '{}': ", k_facts_step));
  auto facts = discover_facts(o.root, *member, runner);
  if (!facts) {
    return own_step_failed(*journal, k_facts_step,
                           facts.error());  // a refused private address names its source
  }
  // The image's kubelet defaults (profile kubelet.*, baked into build.json) feed the sizing.
  auto image_kubelet = read_image_kubelet(o.root);
  if (!image_kubelet) {
    return own_step_failed(*journal, k_facts_step, image_kubelet.error());
  }
  facts->kubelet = *image_kubelet;
  log::info("machine: {:.1f} GiB RAM, {} CPUs, public IP {} (from {})", facts->ram_gib(), facts->cpus,
            facts->public_ip, facts->public_ip_source);
  std::string ip_line = fmt::format("{} (from {})", facts->public_ip, facts->public_ip_source);
  if (auto last = journal->last_state(k_facts_step); last && last->event == JournalEvent::failed) {
    if (auto r = journal->append(k_facts_step, "", JournalEvent::done, "resolved");
        !r) {  // clears `status`'s last error
      return fail_with(r.error());
    }
  }
  if (journal->get("machine.public_ip") != ip_line) {
    if (auto r = journal->put(k_facts_step, "machine.public_ip", ip_line); !r) {  // for `status`
      return fail_with(r.error());
    }
  }
  if (auto dev = journal->get("host.extra_disk.device");
      dev && std::filesystem::is_directory(o.root / "mnt/disk/dind")) {
    facts->extra_disk = *dev;  // the disk step may be skipped as done
    if (auto bytes = journal->get("host.extra_disk.bytes")) {
      facts->extra_disk_bytes = std::strtoull(bytes->c_str(), nullptr, 10);
    }
  }
  log::set_prefix("");
  // 2-8. host, k3s, federation: each journaled, resumable.
  Env env(o.root, *member, *facts, runner, clock, *journal);
  // After `binder-firstboot handover` central CD owns the releases: the federation steps (which
  // would re-create the HelmCharts) are not run again, only the host and k3s steps.
  AgentOptions effective = o;
  if (federation::handed_over(*journal)) {
    log::notice("handed over at {}: skipping the federation steps", federation::handover_time(*journal));
    effective.federation = false;
    effective.handed_over = true;
  }
  StepList steps = firstboot_steps(*member, effective);
  auto summary = run_steps(steps, env, *journal, &reporter);
  if (!summary) {
    return fail_with(summary.error());
  }
  log::set_prefix("agent: ");
  log::notice("complete: {} steps ({} changed, {} unchanged, {} adopted, {} already done)", summary->total,
              summary->changed, summary->unchanged, summary->adopted, summary->skipped);
  if (auto s = journal->get("export.summary")) {
    log::notice("{}", *s);
  }
  return 0;
}

}  // namespace

int run_agent(const AgentOptions& o, CommandRunner& runner, Clock& clock) {
  Reporter reporter(o.root, o.report, clock);
  int code = run(o, runner, clock, reporter);
  log::set_prefix("");
  reporter.finish();  // the block stays on the console and the login screen; phone home flushed
  return code;
}

}  // namespace binder::firstboot::app
