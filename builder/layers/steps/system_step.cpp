// The system layer: k3s and machine-wide settings, one appliance launch. The root filesystem is
// grown here (the base layer only grew the virtual disk) so no separate launch is needed.
#include <set>

#include "layers/digest.hpp"
#include "layers/steps/guest_session.hpp"
#include "layers/steps/hygiene.hpp"
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
  // 2: hygiene and image checks moved here; 3: times of what the session changed normalized
  int version() const override { return 3; }

  std::string describe() const override {
    std::string k3s = m_inputs.k3s_binary ? fmt::format("k3s {}", m_profile.k3s.version.value)
                                          : std::string("no k3s");
    return fmt::format("{}, {} sysctls, {} datasources, {} NTP servers", k3s,
                       m_profile.sysctls.size(), m_profile.cloud_init.datasources.value.size(),
                       m_profile.ntp.value.size());
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
    t.add("mtime", std::to_string(image::source_date_epoch()));
    KnownHashes known;
    for (const auto* f : {&m_inputs.k3s_binary, &m_inputs.airgap_images}) {
      if (*f) {
        known[(*f)->path] = (*f)->sha256;
      }
    }
    return add_tar_entries(t, m_tree, known);
  }

  Result<void> build(const stdfs::path& parent, const stdfs::path& out, const BuildEnv& env) override {
    // The first appliance session on the base: a base that is no OS disk fails here, so name it.
    TRY_CTX(with_guest_layer(parent, out, env, GrowRoot::yes, [&](image::Guest& g) -> Result<void> {
              TRY(check_required_packages(g));
              TRY(g.run_checked(fmt::format("touch {}", k_session_marker)));
              TRY_CTX(upload_tree(g, m_tree, env, "system"), "uploading the system files");
              // The last session that runs commands cleans the image; file-only layers above
              // only add files whose tree is checked (tree_hygiene).
              TRY_CTX(g.run_checked(hygiene_script()), "cleaning the image (hygiene)");
              TRY_CTX(g.run_checked(normalize_times_script(image::source_date_epoch())),
                      "setting the times of what changed to SOURCE_DATE_EPOCH");
              // run_checked's own output files in /tmp were removed after the script ran.
              TRY(g.set_times("/tmp", image::source_date_epoch()));
              TRY_ASSIGN(auto checks, image_checks(g));
              for (const auto& c : checks) {
                if (!c.ok && !c.name.starts_with("binder-firstboot")) {
                  return fail(Errc::internal, "image check '{}' failed after hygiene: {}", c.name, c.detail);
                }
              }
              return {};
            }),
            "on base '{}'", m_inputs.base.path.empty() ? m_inputs.base.name : m_inputs.base.path.string());
    return {};
  }

 private:
  Result<void> check_required_packages(image::Guest& g) const {
    const auto& required = m_profile.required_packages;
    if (required.value.empty()) {
      return {};
    }
    TRY_ASSIGN(std::string status, g.read("/var/lib/dpkg/status"));
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
