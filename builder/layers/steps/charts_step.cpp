// The charts layer (steps.hpp): the files bake_charts() made, written on the host. Its transcript
// holds every resolved input (source URL, commit and sha256, chart version, image pins,
// dependency URLs and digests, cert-manager chart and CRDs, mirrors) besides the files' hashes,
// so a re-published dependency or a moved mirror shows up as the reason for a rebuild. With
// charts.mybinder.enable false the layer adds nothing (an empty overlay, no appliance). Falls back
// to one appliance session (upload only) when the root filesystem can't be written on the host.
#include "common/log.hpp"
#include "image/qemu_img.hpp"
#include "layers/digest.hpp"
#include "layers/steps/guest_session.hpp"
#include "layers/steps/host_layer.hpp"
#include "layers/steps/steps.hpp"

namespace binder::layers::steps {
namespace {

using common::Errc;

class ChartsStep final : public LayerStep {
 public:
  ChartsStep(const config::Profile& p, const ResolvedInputs& in) : m_profile(p), m_inputs(in) {}

  std::string_view kind() const override { return "charts"; }
  int guest_launches() const override { return !m_inputs.charts || host_layers_available() ? 0 : 1; }

  std::string describe() const override {
    if (!m_inputs.charts) {
      return "no charts (charts.mybinder.enable: false)";
    }
    const auto& j = m_inputs.charts->charts_json;
    return fmt::format("mybinder {} ({} dependencies), cert-manager {}, files only",
                       j["mybinder"]["version"].get<std::string>(), j["mybinder"]["dependencies"].size(),
                       j["cert_manager"]["version"].get<std::string>());
  }

  Result<void> hash_inputs(common::hash::Transcript& t) override {
    m_tree = image::TarBuilder();
    t.add("mtime", std::to_string(m_inputs.file_time));
    if (!m_inputs.charts) {
      t.add("charts", "disabled");
      return {};
    }
    for (const auto& [key, value] : m_inputs.charts->inputs) {
      t.add("chart-input:" + key, value);
    }
    for (const auto& f : m_inputs.charts->files) {
      m_tree.add_file(f.path.substr(1), f.data, f.mode);
    }
    return add_tar_entries(t, m_tree);
  }

  Result<void> build(const stdfs::path& parent, const stdfs::path& out, const BuildEnv& env) override {
    if (m_tree.empty()) {
      return image::create_overlay(out, parent);
    }
    auto host = write_layer_on_host(parent, out, m_tree, env, m_inputs.file_time);
    if (!host) {
      if (host.error().code != Errc::precondition) {
        return std::unexpected(host.error());
      }
      common::log::info("charts layer: {}; using an appliance", host.error().to_string());
      std::error_code ec;
      stdfs::remove(out, ec);
      return with_guest_layer(parent, out, env, GrowRoot::no, [&](image::Guest& g) -> Result<void> {
        return upload_tree(g, m_tree, env, "charts", m_inputs.file_time);
      });
    }
    common::log::debug("charts layer written on the host: {}, {} ranges, {} bytes", host->root, host->ranges,
                       host->bytes);
    return {};
  }

 private:
  const config::Profile& m_profile;
  const ResolvedInputs& m_inputs;
  image::TarBuilder m_tree;
};

}  // namespace

std::unique_ptr<LayerStep> make_charts_step(const config::Profile& p, const ResolvedInputs& in) {
  return std::make_unique<ChartsStep>(p, in);
}

}  // namespace binder::layers::steps
