// binder-firstboot run. See agent.hpp.
#include "firstboot/app/agent.hpp"

#include <cstdlib>
#include <filesystem>

#include "common/fs.hpp"
#include "common/hash.hpp"
#include "common/log.hpp"
#include "firstboot/facts.hpp"
#include "firstboot/image_defaults.hpp"
#include "firstboot/federation/handover.hpp"
#include "firstboot/federation/readiness.hpp"
#include "firstboot/federation/steps.hpp"
#include "firstboot/host/host_steps.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/metadata/load.hpp"
#include "firstboot/runner.hpp"

namespace binder::firstboot::app {

namespace log = common::log;

StepList make_all_steps(const Member& member, const AgentOptions& options) {
  StepList steps = host::make_host_steps();
  for (auto& s : k3s::make_k3s_steps(options.ready)) {
    steps.push_back(std::move(s));
  }
  // The join runs once per member, on its server; agent nodes only add capacity.
  if (options.federation && member.node.role == NodeRole::server) {
    for (auto& s : federation::make_federation_steps(member.mode)) {
      steps.push_back(std::move(s));
    }
  }
  if (options.handed_over && member.mode == Mode::federation && member.node.role == NodeRole::server) {
    steps.push_back(federation::make_in_rotation_step(federation::options_from_environment()));
  }
  return steps;
}

std::vector<std::string> all_step_ids(NodeRole role, bool federation, Mode mode) {
  Member m;
  m.node.role = role;
  AgentOptions o;
  o.federation = false;
  std::vector<std::string> ids;
  for (const auto& s : make_all_steps(m, o)) {
    ids.emplace_back(s->id());
  }
  if (federation && role == NodeRole::server) {
    for (auto& id : federation::federation_step_ids(mode)) {
      ids.push_back(id);
    }
  }
  return ids;
}

namespace {

// Logs under the current prefix (the step that failed, if any).
int fail_with(const Error& e) {
  log::error("{}", e.to_string());
  return common::exit_code_for(e);
}

// Step "metadata" (DESIGN.md §6 step 1), journaled like the others so `status` shows its error.
Result<Member> metadata_step(const AgentOptions& o, CommandRunner& runner, Journal& journal) {
  log::set_prefix("step 'metadata': ");
  LoadOptions lo{o.root, o.metadata_file, o.root == "/"};
  auto loaded = load_member(lo, runner);
  if (!loaded) {
    auto r = journal.append("metadata", "", JournalEvent::failed, loaded.error().to_string());
    (void)r;
    return std::unexpected(loaded.error());
  }
  std::string fp = fingerprint_of({loaded->member.to_json().dump()});
  for (const auto& s : loaded->sources) {
    log::info("source '{}'", s);
  }
  if (!journal.is_complete("metadata", fp)) {
    TRY(journal.append("metadata", fp, JournalEvent::begin));
    TRY(save_member_json(o.root, loaded->member));
    TRY(journal.append("metadata", fp, JournalEvent::done, "changed"));
    log::info("member '{}' ({}, {}) loaded from {} source(s)", loaded->member.fqdn(),
              to_string(loaded->member.mode), to_string(loaded->member.node.role),
              loaded->sources.size());
  }
  log::set_prefix("");
  return loaded->member;
}

}  // namespace

int run_agent(const AgentOptions& o, CommandRunner& runner, Clock& clock) {
  // Only one agent at a time (a manual run next to the service).
  auto lock = RunLock::acquire(o.root / std::string(k_lock_path).substr(1));
  if (!lock) {
    return fail_with(lock.error());
  }
  auto journal = Journal::open(o.root / std::string(k_journal_path).substr(1), clock);
  if (!journal) {
    return fail_with(journal.error());
  }
  // 1. metadata: gather, merge, validate, keep the normalized copy.
  auto member = metadata_step(o, runner, *journal);
  if (!member) {
    return fail_with(member.error());
  }
  // Machine facts: RAM, CPUs, the public IP and where it came from.
  log::set_prefix("step 'facts': ");
  auto facts = discover_facts(o.root, *member, runner);
  if (!facts) {
    // Journaled so `status` shows it (a refused private address names its source).
    auto r = journal->append("facts", "", JournalEvent::failed, facts.error().to_string());
    (void)r;
    return fail_with(facts.error());
  }
  // The image's kubelet defaults (profile kubelet.*, baked into build.json) feed the sizing.
  auto image_kubelet = read_image_kubelet(o.root);
  if (!image_kubelet) {
    auto r = journal->append("facts", "", JournalEvent::failed, image_kubelet.error().to_string());
    (void)r;
    return fail_with(image_kubelet.error());
  }
  facts->kubelet = *image_kubelet;
  log::info("machine: {:.1f} GiB RAM, {} CPUs, public IP {} (from {})", facts->ram_gib(),
            facts->cpus, facts->public_ip, facts->public_ip_source);
  std::string ip_line = fmt::format("{} (from {})", facts->public_ip, facts->public_ip_source);
  if (auto last = journal->last_state("facts"); last && last->event == JournalEvent::failed) {
    if (auto r = journal->append("facts", "", JournalEvent::done, "resolved"); !r) {  // clears `status`'s last error
      return fail_with(r.error());
    }
  }
  if (journal->get("machine.public_ip") != ip_line) {
    if (auto r = journal->put("facts", "machine.public_ip", ip_line); !r) {  // for `status`
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
  StepList steps = make_all_steps(*member, effective);
  auto summary = run_steps(steps, env, *journal);
  if (!summary) {
    return fail_with(summary.error());
  }
  log::set_prefix("agent: ");
  log::notice("complete: {} steps ({} changed, {} unchanged, {} adopted, {} already done)",
              summary->total, summary->changed, summary->unchanged, summary->adopted,
              summary->skipped);
  if (auto s = journal->get("export.summary")) {
    log::notice("{}", *s);
  }
  return 0;
}

}  // namespace binder::firstboot::app
