// The final layer: everything that changes most often (overlays, the firstboot agent), so an
// edit rebuilds only this layer. It only adds files, so it is written on the host without an
// appliance launch (host_layer.hpp); its tree is checked for hygiene first (the parent was
// cleaned and checked by the system layer), so a dirty layer is never committed. When the root
// filesystem can't be written on the host it falls back to one appliance session: upload, hygiene,
// image checks. Either way the image's dpkg status is kept beside the layer for the SBOM.
#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "layers/digest.hpp"
#include "layers/steps/final_files.hpp"
#include "layers/steps/guest_session.hpp"
#include "layers/steps/host_layer.hpp"
#include "layers/steps/hygiene.hpp"
#include "layers/steps/hygiene_checks.hpp"
#include "layers/steps/steps.hpp"

namespace binder::layers::steps {
namespace {

using common::Errc;
using common::fail;

class FinalStep final : public LayerStep {
 public:
  FinalStep(const config::Profile& p, const ResolvedInputs& in) : m_profile(p), m_inputs(in) {}

  std::string_view kind() const override { return "final"; }
  // 2: binder-firstboot stripped; 3: written on the host, hygiene in the system layer, sidecar
  int version() const override { return 3; }
  int guest_launches() const override { return host_layers_available() ? 0 : 1; }
  std::map<std::string, std::string> sidecars() const override {
    return {{"dpkg-status", m_dpkg_status}, {"os-release", m_os_release}};
  }

  std::string describe() const override {
    return fmt::format("{} overlays, binder-firstboot{}{}, files only", m_profile.overlays.size(),
                       m_profile.firstboot.enable.value ? " (enabled)" : "",
                       m_inputs.member ? ", baked member.yaml" : "");
  }

  Result<void> hash_inputs(common::hash::Transcript& t) override {
    TRY_ASSIGN(m_tree, final_tree(m_profile, m_inputs));
    t.add("hygiene", hygiene_script());
    t.add("mtime", std::to_string(m_inputs.file_time));
    KnownHashes known{{m_inputs.firstboot_binary.path, m_inputs.firstboot_binary.sha256}};
    TRY(add_tar_entries(t, m_tree, known));
    return check_tree_hygiene();  // before any layer is built
  }

  Result<void> build(const stdfs::path& parent, const stdfs::path& out, const BuildEnv& env) override {
    TRY(strip_firstboot(env));
    auto host = write_layer_on_host(parent, out, m_tree, env, m_inputs.file_time);
    if (host) {
      common::log::debug("final layer written on the host: {}, {} ranges, {} bytes", host->root, host->ranges,
                         host->bytes);
      m_dpkg_status = std::move(host->dpkg_status);
      m_os_release = std::move(host->os_release);
      return {};
    }
    if (host.error().code != Errc::precondition) {
      return std::unexpected(host.error());
    }
    common::log::info("final layer: {}; using an appliance", host.error().to_string());
    std::error_code ec;
    stdfs::remove(out, ec);
    return with_guest_layer(parent, out, env, GrowRoot::no, [&](image::Guest& g) -> Result<void> {
      TRY_CTX(upload_tree(g, m_tree, env, "final", m_inputs.file_time), "uploading overlays and firstboot");
      TRY_CTX(g.run_checked(hygiene_script()), "cleaning the image (hygiene)");
      TRY_ASSIGN(auto checks, image_checks(g));
      TRY(fail_on_checks(checks, m_profile.firstboot.enable.value));
      auto status = g.read("/var/lib/dpkg/status");
      m_dpkg_status = status ? std::move(*status) : std::string();
      auto os = g.read("/etc/os-release");
      m_os_release = os ? std::move(*os) : std::string();
      return {};
    });
  }

 private:
  // The agent is built with debug info (~100 MB); the image gets a stripped copy. strip is
  // deterministic, so the layer is still a function of the hashed binary.
  Result<void> strip_firstboot(const BuildEnv& env) {
    if (!common::exec::find_program("strip")) {
      return {};
    }
    stdfs::path stripped = env.work_dir / "binder-firstboot";
    TRY_CTX(common::exec::run_checked(
                {"strip", "--strip-debug", "-o", stripped.string(), m_inputs.firstboot_binary.path.string()}),
            "stripping '{}'", m_inputs.firstboot_binary.path.string());
    return m_tree.add_host_file("usr/local/sbin/binder-firstboot", stripped, 0755);
  }

  // What the file tree would make unclean in a clean parent is refused, naming the paths.
  Result<void> check_tree_hygiene() const {
    std::vector<std::pair<std::string, std::string>> files;
    for (const image::TarEntry* e : m_tree.entries()) {
      std::string data = e->data;
      if (e->path == "etc/machine-id" && !e->host_path.empty()) {
        TRY_ASSIGN(data, common::fs::read_file(e->host_path));
      }
      files.emplace_back(e->path, std::move(data));
    }
    auto bad = tree_hygiene(files);
    if (bad.empty()) {
      return {};
    }
    // Name the overlay (and where the profile lists it) that brings the first offending path;
    // later overlays win, as in the tree.
    std::string where;
    for (const auto& o : m_profile.overlays) {
      std::error_code ec;
      if (stdfs::exists(o.dir / bad.front().substr(1), ec) ||
          stdfs::is_symlink(o.dir / bad.front().substr(1), ec)) {
        where = fmt::format("{}: overlay '{}' ", o.name.loc.to_string(), o.name.value);
      }
    }
    return fail(Errc::invalid_config,
                "{}would put machine state into the image (it must leave the builder clean): {}",
                where.empty() ? "the final layer " : where, fmt::join(bad, ", "));
  }

  const config::Profile& m_profile;
  const ResolvedInputs& m_inputs;
  image::TarBuilder m_tree;
  std::string m_dpkg_status;
  std::string m_os_release;
};

}  // namespace

std::unique_ptr<LayerStep> make_final_step(const config::Profile& p, const ResolvedInputs& in) {
  return std::make_unique<FinalStep>(p, in);
}

}  // namespace binder::layers::steps
