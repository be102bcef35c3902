// The base layer: the only root layer (no backing file). A cloud image is checked with qemu-img
// (info, then check) before use, so a corrupt or truncated download fails here with its name.
// When host layers are available its root partition and filesystem are grown to disk.size on the
// host (image/grow.hpp) on a raw copy, which becomes the layer by one qemu-img convert and is
// proven equal to it by qemu-img compare: no appliance launch, and byte-reproducible (the layer
// is a whole image, so there are no written ranges to record). Otherwise the virtual disk is only
// enlarged and the system layer's appliance session grows the root.
#include "base/assemble.hpp"
#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "config/settings.hpp"
#include "image/archive.hpp"
#include "image/grow.hpp"
#include "image/qemu_img.hpp"
#include "layers/steps/host_layer.hpp"
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
  // 2: assembled files and lost+found get the epoch; 3: identifiers derived from the inputs;
  // 4: cloud images grown on the host
  int version() const override { return 4; }

  std::string describe() const override {
    return fmt::format("{} '{}', {} GiB", m_inputs.base_is_rootfs ? "rootfs" : "image", m_inputs.base.name,
                       static_cast<double>(m_profile.disk.size.value) / (1ull << 30));
  }

  Result<void> hash_inputs(common::hash::Transcript& t) override {
    t.add("input:base-kind", m_inputs.base_is_rootfs ? "rootfs" : "image");
    t.add("input:base", m_inputs.base.sha256);
    t.add("disk-size", std::to_string(m_profile.disk.size.value));
    if (m_inputs.base_is_rootfs) {
      t.add("mtime", std::to_string(m_inputs.file_time));
    } else {
      // Grown here (superblock times = the build date) or later in an appliance.
      t.add("grow", host_layers_available() ? "host" : "appliance");
      t.add("mtime", std::to_string(m_inputs.file_time));
    }
    return {};
  }

  Result<void> build(const stdfs::path&, const stdfs::path& out, const BuildEnv& env) override {
    return build_base(out, env);
  }

 private:
  Result<void> build_base(const stdfs::path& out, const BuildEnv& env) {
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
      return fail(Errc::invalid_config, "disk.size ({} bytes) is smaller than the base image '{}' ({} bytes)",
                  size, src.string(), info.virtual_size);
    }
    if (host_layers_available()) {
      auto grown = grow_on_host(src, info, out, env);
      if (grown || grown.error().code != Errc::precondition) {
        return grown;
      }
      // e.g. a root partition that is not last: the system layer's appliance session grows it.
      common::log::info("base: {}; the root grows in an appliance", grown.error().to_string());
      std::error_code ec;
      stdfs::remove(out, ec);
    }
    image::ConvertOptions opts;
    opts.input_format = info.format;
    TRY(image::convert(src, out, opts));
    if (info.virtual_size < size) {
      TRY(image::resize(out, "qcow2", size));
    }
    return {};
  }

  // The cloud image as a sparse raw disk of disk.size, its root grown, converted to the layer.
  Result<void> grow_on_host(const stdfs::path& src, const image::ImageInfo& info, const stdfs::path& out,
                            const BuildEnv& env) {
    std::uint64_t size = m_profile.disk.size.value;
    TRY_ASSIGN(auto scratch, common::fs::TempDir::create("base-grow", env.work_dir));
    stdfs::path raw = scratch.path() / "disk.raw";
    TRY_CTX(
        image::convert(src, raw, image::ConvertOptions{.output_format = "raw", .input_format = info.format}),
        "reading base image '{}' out as a raw disk", src.string());
    if (info.virtual_size < size) {
      TRY(image::resize(raw, "raw", size));
    }
    auto grown = image::grow_root_partition(raw, m_inputs.file_time);
    if (!grown && grown.error().code == Errc::precondition) {
      return std::unexpected(grown.error());
    }
    TRY_CTX(grown, "growing the root of base image '{}' to {} bytes on the host", src.string(), size);
    common::log::info("base: root partition {} ('{}') grown on the host from {} to {} bytes",
                      grown->partition, grown->label, grown->old_bytes, grown->new_bytes);
    TRY(image::convert(raw, out, image::ConvertOptions{.output_format = "qcow2", .input_format = "raw"}));
    auto cmp = common::exec::run(
        {"qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", raw.string(), out.string()},
        common::exec::Options{.timeout = std::chrono::minutes(30)});
    TRY(cmp);
    if (cmp->exit_code != 0) {
      return fail(Errc::internal,
                  "the base layer '{}' differs from the disk grown on the host "
                  "(qemu-img compare exit {}): {}",
                  out.string(), cmp->exit_code, cmp->err);
    }
    return {};
  }

  const config::Profile& m_profile;
  const ResolvedInputs& m_inputs;
};

}  // namespace

std::unique_ptr<LayerStep> make_base_step(const config::Profile& p, const ResolvedInputs& in) {
  return std::make_unique<BaseStep>(p, in);
}

}  // namespace binder::layers::steps
