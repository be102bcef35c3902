// The builder step interface. A LayerStep turns its parent layer into a child layer and is a pure
// function of what it feeds to hash_inputs(): build() must not read anything that was not hashed.
// Steps are made by plan_layers() (layer_plan.hpp) from a validated profile and the resolved
// inputs; each kind lives in layers/steps/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "charts/bake.hpp"
#include "common/hash.hpp"
#include "common/result.hpp"
#include "image/archive.hpp"
#include "image/guestfs.hpp"

namespace binder::layers {

using common::Result;
namespace stdfs = std::filesystem;

// A verified local file and its sha256.
struct InputFile {
  stdfs::path path;
  std::string sha256;
  std::string name;  // what the profile calls it (basename of the URL/file)
};

// Every external input of a build, resolved (downloaded and verified) before any layer is hashed.
struct ResolvedInputs {
  InputFile base;  // the cloud image, or the rootfs tarball
  bool base_is_rootfs = false;
  std::optional<InputFile> k3s_binary;     // nullopt: k3s.install is false
  std::optional<InputFile> airgap_images;  // nullopt: none baked
  // system-upgrade-controller release files (config/k3s_upgrade.hpp); nullopt: k3s.upgrade.enable
  // false or no k3s.
  std::optional<InputFile> upgrade_controller;
  std::optional<InputFile> upgrade_crd;
  InputFile firstboot_binary;
  stdfs::path firstboot_unit;       // firstboot/units/binder-firstboot.service
  std::optional<InputFile> member;  // baked member metadata
  // The packaged charts and charts.json (charts/bake.hpp); nullopt: charts.mybinder.enable false.
  std::optional<charts::BakedCharts> charts;
  // The build date (common::BuildDate::file_time()): the time of every file the layers write,
  // in build.json, and in each layer's digest.
  std::int64_t file_time = image::k_default_mtime;
};

// What build() may use besides its own inputs.
struct BuildEnv {
  // libguestfs options from the accelerator choice, asked for only when a step launches an
  // appliance (the KVM probe costs seconds; a build of host-side layers needs none). Unset:
  // libguestfs defaults.
  std::function<Result<image::GuestOptions>()> guest_options;
  stdfs::path work_dir;  // scratch space for host-side tars (removed after the build)
};

class LayerStep {
 public:
  virtual ~LayerStep() = default;
  // Stable kind name, part of the digest: "base", "system", "final".
  virtual std::string_view kind() const = 0;
  // One line for progress and plan output: "k3s v1.33.5+k3s1, 4 sysctls, 3 datasources".
  virtual std::string describe() const = 0;
  // Bumped when build() changes behaviour, so layers made by the old code are not reused.
  virtual int version() const { return 1; }
  // Number of libguestfs launches build() needs (plan output, tests).
  virtual int guest_launches() const { return 1; }
  // Small files build() made besides the image, kept beside the layer in the cache
  // (<digest>.<name>) so a cache hit has them too. Valid after a successful build().
  virtual std::map<std::string, std::string> sidecars() const { return {}; }
  // Adds the step's own fields to `t` (which already holds format, abi, kind, parent, settings).
  // May read and hash input files; prepares what build() uploads.
  virtual Result<void> hash_inputs(common::hash::Transcript& t) = 0;
  // Makes the layer image at `out` (a qcow2; a file that does not exist yet) on top of `parent`
  // (empty for a root layer). On failure `out` may hold garbage: the caller deletes it.
  virtual Result<void> build(const stdfs::path& parent, const stdfs::path& out, const BuildEnv& env) = 0;
};

}  // namespace binder::layers
