// The final layer: everything that changes most often (overlays, the firstboot agent), so an
// edit rebuilds only this layer: one appliance launch. Hygiene runs last, then the image checks
// verify it before the layer is published (a dirty layer is never committed).
#include "common/exec.hpp"
#include "layers/digest.hpp"
#include "layers/steps/final_files.hpp"
#include "layers/steps/guest_session.hpp"
#include "layers/steps/hygiene.hpp"
#include "layers/steps/steps.hpp"

namespace binder::layers::steps {
namespace {

using common::Errc;
using common::fail;

class FinalStep final : public LayerStep {
 public:
  FinalStep(const config::Profile& p, const ResolvedInputs& in) : m_profile(p), m_inputs(in) {}

  std::string_view kind() const override { return "final"; }
  int version() const override { return 2; }  // 2: binder-firstboot stripped

  std::string describe() const override {
    return fmt::format("{} overlays, binder-firstboot{}{}, hygiene", m_profile.overlays.size(),
                       m_profile.firstboot.enable.value ? " (enabled)" : "",
                       m_inputs.member ? ", baked member.yaml" : "");
  }

  Result<void> hash_inputs(common::hash::Transcript& t) override {
    TRY_ASSIGN(m_tree, final_tree(m_profile, m_inputs));
    t.add("hygiene", hygiene_script());
    KnownHashes known{{m_inputs.firstboot_binary.path, m_inputs.firstboot_binary.sha256}};
    return add_tar_entries(t, m_tree, known);
  }

  Result<void> build(const stdfs::path& parent, const stdfs::path& out, const BuildEnv& env) override {
    TRY(strip_firstboot(env));
    return with_guest_layer(parent, out, env, GrowRoot::no, [&](image::Guest& g) -> Result<void> {
      TRY_CTX(upload_tree(g, m_tree, env, "final"), "uploading overlays and firstboot");
      TRY_CTX(g.run_checked(hygiene_script()), "cleaning the image (hygiene)");
      TRY_ASSIGN(auto checks, image_checks(g));
      for (const auto& c : checks) {
        bool skipped = !m_profile.firstboot.enable.value && c.name.starts_with("binder-firstboot");
        if (!c.ok && !skipped) {
          return fail(Errc::internal, "image check '{}' failed after hygiene: {}", c.name, c.detail);
        }
      }
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
    TRY_CTX(common::exec::run_checked({"strip", "--strip-debug", "-o", stripped.string(),
                                       m_inputs.firstboot_binary.path.string()}),
            "stripping '{}'", m_inputs.firstboot_binary.path.string());
    return m_tree.add_host_file("usr/local/sbin/binder-firstboot", stripped, 0755);
  }

  const config::Profile& m_profile;
  const ResolvedInputs& m_inputs;
  image::TarBuilder m_tree;
};

}  // namespace

std::unique_ptr<LayerStep> make_final_step(const config::Profile& p, const ResolvedInputs& in) {
  return std::make_unique<FinalStep>(p, in);
}

}  // namespace binder::layers::steps
