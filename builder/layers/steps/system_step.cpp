// The system layer: k3s and machine-wide settings, then hygiene and the image checks. Written on
// the host (host_layer.hpp, host_hygiene) when the root filesystem already fills the disk (a
// rootfs base: the assembly sizes it so; a cloud image: the base layer grew it on the host);
// otherwise one appliance session, which also grows the root partition and filesystem.
#include <set>

#include "common/log.hpp"
#include "layers/digest.hpp"
#include "layers/steps/guest_session.hpp"
#include "layers/steps/host_layer.hpp"
#include "layers/steps/hygiene.hpp"
#include "layers/steps/hygiene_checks.hpp"
#include "layers/steps/steps.hpp"
#include "layers/steps/system_files.hpp"

namespace binder::layers::steps {
namespace {

using common::Errc;
using common::fail;

// Installed package names from a dpkg status file ("Status: install ok installed").
std::set<std::string> installed_packages(std::string_view status) {
  std::set<std::string> out;
  std::string name;
  bool installed = false;
  auto flush = [&] {
    if (!name.empty() && installed) {
      out.insert(name);
    }
    name.clear();
    installed = false;
  };
  std::size_t pos = 0;
  while (pos <= status.size()) {
    std::size_t nl = status.find('\n', pos);
    std::string_view line = status.substr(pos, nl == std::string_view::npos ? status.npos : nl - pos);
    pos = nl == std::string_view::npos ? status.size() + 1 : nl + 1;
    if (line.empty()) {
      flush();
    } else if (line.starts_with("Package: ")) {
      name = std::string(line.substr(9));
    } else if (line.starts_with("Status: ")) {
      installed = line.ends_with(" installed");
    }
  }
  flush();
  return out;
}

class SystemStep final : public LayerStep {
 public:
  SystemStep(const config::Profile& p, const ResolvedInputs& in) : m_profile(p), m_inputs(in) {}

  std::string_view kind() const override { return "system"; }
  // 2: hygiene and image checks moved here; 3: times of what the session changed normalized;
  // 4: written on the host when no growth is needed
  int version() const override { return 4; }
  // The base fills the disk when host layers are available: a rootfs base is assembled to size,
  // a cloud image's root is grown on the host by the base layer.
  int guest_launches() const override { return host_layers_available() ? 0 : 1; }

  std::string describe() const override {
    std::string k3s =
        m_inputs.k3s_binary ? fmt::format("k3s {}", m_profile.k3s.version.value) : std::string("no k3s");
    if (m_inputs.upgrade_controller) {
      const auto& u = m_profile.k3s.upgrade;
      k3s += fmt::format(" (upgrades: system-upgrade-controller {}, Plan {} {})", u.controller_version.value,
                         u.pinned_version() ? "version" : "channel", u.channel.value);
    }
    return fmt::format("{}, {} sysctls, {} datasources, {} NTP servers", k3s, m_profile.sysctls.size(),
                       m_profile.cloud_init.datasources.value.size(), m_profile.ntp.value.size());
  }

  Result<void> hash_inputs(common::hash::Transcript& t) override {
    TRY_ASSIGN(m_tree, system_tree(m_profile, m_inputs));
    // required_packages affects no file, but the check runs in this layer's session.
    std::string required;
    for (const auto& p : m_profile.required_packages.value) {
      required += p.value + "\n";
    }
    t.add("required-packages", required);
    t.add("hygiene", hygiene_script());
    t.add("mtime", std::to_string(m_inputs.file_time));
    KnownHashes known;
    for (const auto* f : {&m_inputs.k3s_binary, &m_inputs.airgap_images, &m_inputs.upgrade_crd,
                          &m_inputs.upgrade_controller}) {
      if (*f) {
        known[(*f)->path] = (*f)->sha256;
      }
    }
    return add_tar_entries(t, m_tree, known);
  }

  Result<void> build(const stdfs::path& parent, const stdfs::path& out, const BuildEnv& env) override {
    std::int64_t epoch = m_inputs.file_time;
    HostLayerOptions host_options;
    host_options.need_full_disk = true;
    host_options.before = [&](image::Ext4Fs& fs) -> Result<void> {
      if (m_profile.required_packages.value.empty()) {
        return {};
      }
      auto status = fs.read_file("/var/lib/dpkg/status", 64u << 20);
      return check_required_packages(status ? *status : std::string());
    };
    host_options.after = [](image::Ext4Fs& fs) { return host_hygiene(fs); };
    host_options.verify = [](const image::Ext4Fs& fs) -> Result<void> {
      TRY_ASSIGN(auto checks, image_checks(fs));
      return fail_on_checks(checks, false);
    };
    auto host = write_layer_on_host(parent, out, m_tree, env, epoch, host_options);
    if (host) {
      common::log::debug("system layer written on the host: {}, {} ranges, {} bytes", host->root,
                         host->ranges, host->bytes);
      return {};
    }
    if (host.error().code != Errc::precondition) {
      return std::unexpected(host.error());
    }
    common::log::info("system layer: {}; using an appliance", host.error().to_string());
    std::error_code ec;
    stdfs::remove(out, ec);
    // The first appliance session on the base: a base that is no OS disk fails here, so name it.
    TRY_CTX(with_guest_layer(parent, out, env, GrowRoot::yes,
                             [&](image::Guest& g) -> Result<void> {
                               if (!m_profile.required_packages.value.empty()) {
                                 TRY_ASSIGN(std::string status, g.read("/var/lib/dpkg/status"));
                                 TRY(check_required_packages(status));
                               }
                               TRY(g.run_checked(fmt::format("touch {}", k_session_marker)));
                               TRY_CTX(upload_tree(g, m_tree, env, "system", epoch),
                                       "uploading the system files");
                               // The last session that runs commands cleans the image; file-only layers above
                               // only add files whose tree is checked (tree_hygiene).
                               TRY_CTX(g.run_checked(hygiene_script()), "cleaning the image (hygiene)");
                               TRY_CTX(g.run_checked(normalize_times_script(epoch)),
                                       "setting the times of what changed to SOURCE_DATE_EPOCH");
                               // run_checked's own output files in /tmp were removed after the script ran.
                               TRY(g.set_times("/tmp", epoch));
                               TRY_ASSIGN(auto checks, image_checks(g));
                               return fail_on_checks(checks, false);
                             }),
            "on base '{}'", m_inputs.base.path.empty() ? m_inputs.base.name : m_inputs.base.path.string());
    return {};
  }

 private:
  Result<void> check_required_packages(const std::string& status) const {
    const auto& required = m_profile.required_packages;
    std::set<std::string> have = installed_packages(status);
    std::string missing;
    for (const auto& p : required.value) {
      if (!have.contains(p.value)) {
        missing += (missing.empty() ? "'" : ", '") + p.value + "'";
      }
    }
    if (!missing.empty()) {
      return fail(Errc::invalid_config,
                  "{}: required_packages {} not installed in the base image '{}' "
                  "(per its /var/lib/dpkg/status)",
                  required.loc.to_string(), missing, m_inputs.base.name);
    }
    return {};
  }

  const config::Profile& m_profile;
  const ResolvedInputs& m_inputs;
  image::TarBuilder m_tree;
};

}  // namespace

std::unique_ptr<LayerStep> make_system_step(const config::Profile& p, const ResolvedInputs& in) {
  return std::make_unique<SystemStep>(p, in);
}

}  // namespace binder::layers::steps
