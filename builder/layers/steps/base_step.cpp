// The base layer: the only root layer (no backing file). A cloud image is checked with qemu-img
// (info, then check) before use, so a corrupt or truncated download fails here with its name.
#include "common/log.hpp"
#include "base/assemble.hpp"
#include "config/settings.hpp"
#include "image/archive.hpp"
#include "image/qemu_img.hpp"
#include "layers/steps/steps.hpp"

namespace binder::layers::steps {
namespace {

using common::Errc;
using common::fail;

class BaseStep final : public LayerStep {
 public:
  BaseStep(const config::Profile& p, const ResolvedInputs& in) : m_profile(p), m_inputs(in) {}

  std::string_view kind() const override { return "base"; }
  int guest_launches() const override { return 0; }
  // 2: assembled files and lost+found get the epoch; 3: identifiers derived from the inputs
  int version() const override { return 3; }

  std::string describe() const override {
    return fmt::format("{} '{}', {} GiB", m_inputs.base_is_rootfs ? "rootfs" : "image",
                       m_inputs.base.name,
                       static_cast<double>(m_profile.disk.size.value) / (1ull << 30));
  }

  Result<void> hash_inputs(common::hash::Transcript& t) override {
    t.add("input:base-kind", m_inputs.base_is_rootfs ? "rootfs" : "image");
    t.add("input:base", m_inputs.base.sha256);
    t.add("disk-size", std::to_string(m_profile.disk.size.value));
    if (m_inputs.base_is_rootfs) {
      t.add("mtime", std::to_string(m_inputs.file_time));
    }
    return {};
  }

  Result<void> build(const stdfs::path&, const stdfs::path& out, const BuildEnv& env) override {
    std::uint64_t size = m_profile.disk.size.value;
    if (m_inputs.base_is_rootfs) {
      base::AssembleOptions opts;
      opts.work_dir = env.work_dir;
      opts.mtime = m_inputs.file_time;
      opts.id_seed = fmt::format("binder-image base {} {}", m_inputs.base.sha256, size);
      TRY_CTX(base::assemble_rootfs_disk(m_inputs.base.path, out, size, opts),
              "assembling base disk from '{}'", m_inputs.base.path.string());
      return {};
    }
    const auto& src = m_inputs.base.path;
    TRY_ASSIGN(image::ImageInfo info, image::info(src));
    if (info.format != "qcow2" && info.format != "raw") {
      return fail(Errc::invalid_config, "base image '{}' has format '{}', expected qcow2 or raw",
                  src.string(), info.format);
    }
    if (info.backing_filename) {
      return fail(Errc::invalid_config, "base image '{}' has a backing file; give a standalone image",
                  src.string());
    }
    TRY(image::check(src, info.format));
    if (info.virtual_size < (1u << 20)) {
      return fail(Errc::invalid_config, "base image '{}' is not a disk image ({} format, {} bytes)",
                  src.string(), info.format, info.virtual_size);
    }
    if (info.virtual_size > size) {
      return fail(Errc::invalid_config,
                  "disk.size ({} bytes) is smaller than the base image '{}' ({} bytes)", size,
                  src.string(), info.virtual_size);
    }
    image::ConvertOptions opts;
    opts.input_format = info.format;
    TRY(image::convert(src, out, opts));
    if (info.virtual_size < size) {
      TRY(image::resize(out, "qcow2", size));
    }
    return {};
  }

 private:
  const config::Profile& m_profile;
  const ResolvedInputs& m_inputs;
};

}  // namespace

std::unique_ptr<LayerStep> make_base_step(const config::Profile& p, const ResolvedInputs& in) {
  return std::make_unique<BaseStep>(p, in);
}

}  // namespace binder::layers::steps
