// What a step sees of the world (LevelDB's Env idea): the root directory it works under
// (--root, "/" on a VM), the merged member metadata, the machine facts, a command runner seam, a
// clock seam, and the journal's output store for values that must survive a crash (generated
// secrets, IDs returned by APIs). Tests build an Env over a temp dir with fakes for all seams.
// Not thread-safe; one Env per run.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/exec.hpp"
#include "common/result.hpp"
#include "firstboot/metadata/member.hpp"

namespace binder::firstboot {

using common::Errc;
using common::Error;
using common::Result;

// The image's kubelet defaults: the profile's kubelet.* settings, baked by the builder into
// /etc/binder-image/build.json (image_defaults.hpp reads them); built-in values without that file.
struct KubeletDefaults {
  double max_pods_per_gib = 1.75;
  int image_gc_high = 40;  // percent
  int image_gc_low = 20;   // percent
  std::string source = "built-in defaults";
};

struct MachineFacts {
  std::uint64_t ram_bytes = 0;
  int cpus = 0;
  std::string public_ip;         // "203.0.113.7"
  std::string public_ip_source;  // "metadata", "cloud-init instance data", "default route"
  // False when public_ip is not on any NIC (NAT, floating IP): k3s gets node-external-ip.
  bool public_ip_on_nic = true;
  // Device of the extra disk once chosen ("/dev/vdb"); empty when there is none. The disk is
  // mounted at /mnt/disk and dind keeps its state in /mnt/disk/dind.
  std::string extra_disk;
  std::uint64_t extra_disk_bytes = 0;  // its size (sizes the buildkit cache); 0 when unknown/none
  KubeletDefaults kubelet;             // from the image (build.json)

  double ram_gib() const { return static_cast<double>(ram_bytes) / (1024.0 * 1024.0 * 1024.0); }
};

// Runs programs. The system runner calls common::exec::run; tests record argv and answer.
class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Same contract as common::exec::run: an error only if the program could not be started.
  virtual Result<common::exec::Output> run(const std::vector<std::string>& argv,
                                           const common::exec::Options& options = {}) = 0;
  // Non-zero exit/signal/timeout -> Errc::external_tool naming the program and its stderr tail.
  Result<common::exec::Output> run_checked(const std::vector<std::string>& argv,
                                           const common::exec::Options& options = {});
};

class SystemCommandRunner : public CommandRunner {
 public:
  Result<common::exec::Output> run(const std::vector<std::string>& argv,
                                   const common::exec::Options& options = {}) override;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() = 0;
  virtual void sleep(std::chrono::milliseconds d) = 0;
  // Time since the machine powered on (CLOCK_BOOTTIME), immune to the wall clock stepping at NTP
  // sync; nullopt when unknown (fakes by default). The journal records it for the timeline.
  virtual std::optional<std::chrono::milliseconds> since_boot() { return std::nullopt; }
};

class SystemClock : public Clock {
 public:
  std::chrono::system_clock::time_point now() override;
  void sleep(std::chrono::milliseconds d) override;
  std::optional<std::chrono::milliseconds> since_boot() override;
};

// Durable key/value outputs of steps (journal.hpp implements it). Keys are global and dotted:
// "harbor.admin_password", "disk.uuid".
class OutputStore {
 public:
  virtual ~OutputStore() = default;
  virtual std::optional<std::string> get(std::string_view key) const = 0;
  // Persists (fsync) before returning; `step` names the writer in the journal.
  virtual Result<void> put(std::string_view step, std::string_view key, std::string_view value) = 0;
};

// In-memory store for tests and `plan`.
class MemoryOutputStore : public OutputStore {
 public:
  std::optional<std::string> get(std::string_view key) const override;
  Result<void> put(std::string_view step, std::string_view key, std::string_view value) override;
  std::vector<std::pair<std::string, std::string>> values;
};

class Env {
 private:
  std::filesystem::path m_root;

 public:
  Env(std::filesystem::path root_dir, Member member_data, MachineFacts machine, CommandRunner& command_runner,
      Clock& clock_seam, OutputStore& output_store)
      : m_root(std::move(root_dir)),
        member(std::move(member_data)),
        facts(std::move(machine)),
        runner(command_runner),
        clock(clock_seam),
        outputs(output_store) {}

  const std::filesystem::path& root() const { return m_root; }
  // True when acting on the running system (root "/"): services are restarted, devices mounted.
  bool live() const { return m_root == "/"; }
  // Maps an absolute system path to the root: path("/etc/hostname") = root/etc/hostname.
  std::filesystem::path path(std::string_view absolute) const;

  // The step the runner is executing (for journal records and log lines).
  std::string current_step;

  // Shorthands over `outputs`: put() records under current_step and registers `value` as a
  // secret with the log when secret == true.
  std::optional<std::string> output(std::string_view key) const { return outputs.get(key); }
  Result<void> put_output(std::string_view key, std::string_view value, bool secret = false);

  Member member;
  MachineFacts facts;
  CommandRunner& runner;
  Clock& clock;
  OutputStore& outputs;
};

}  // namespace binder::firstboot
