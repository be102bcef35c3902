// See build_image.hpp. One comment and one call per stage: the architecture reads in one screen.
#include "pipeline/build_image.hpp"

#include <unistd.h>

#include "base/accel.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "config/load.hpp"
#include "export/export.hpp"
#include "export/image_sbom.hpp"
#include "image/guestfs.hpp"
#include "layers/interrupt.hpp"
#include "layers/layer_plan.hpp"
#include "pipeline/manifest.hpp"
#include "pipeline/resolve_inputs.hpp"

namespace binder::pipeline {
namespace {

using common::Errc;
using common::fail;
namespace stdfs = std::filesystem;

std::vector<exporter::OutputSpec> output_specs(const config::Profile& p) {
  std::vector<exporter::OutputSpec> specs;
  for (const auto& o : p.outputs) {
    specs.push_back(exporter::OutputSpec{std::string(config::to_string(o.format.value)),
                                         std::string(config::to_string(o.compression.value)), o.name.value});
  }
  return specs;
}

layers::LayerCache open_cache(const BuildOptions& o) {
  return o.cache_root.empty() ? layers::LayerCache::from_env() : layers::LayerCache(o.cache_root);
}

// A full disk shows up as ENOSPC deep inside a tool's message: say it plainly.
common::Error explain_enospc(common::Error e) {
  if (e.message.find("No space left on device") != std::string::npos) {
    e.message = "out of disk space (No space left on device): " + e.message;
  }
  return e;
}

struct WorkDir {
  stdfs::path path;
  static Result<WorkDir> create(const stdfs::path& cache_dir) {
    WorkDir w{cache_dir / fmt::format("work.partial-{}", ::getpid())};
    TRY(common::fs::remove_tree(w.path));
    TRY(common::fs::make_directories(w.path, 0700));
    return w;
  }
  WorkDir(stdfs::path p) : path(std::move(p)) {}
  WorkDir(WorkDir&& o) noexcept : path(std::move(o.path)) { o.path.clear(); }
  WorkDir& operator=(WorkDir&&) = delete;
  ~WorkDir() {
    if (!path.empty()) {
      (void)common::fs::remove_tree(path);
    }
  }
};

// What `plan` and `build` share, kept at one address: the plan's steps refer to the profile and
// the inputs.
struct Prepared {
  config::Profile profile;
  std::vector<exporter::OutputSpec> specs;
  common::BuildDate date;
  layers::ResolvedInputs inputs;
  std::optional<common::fs::TempDir> private_cache;  // --no-cache builds
  layers::LayerCache cache{std::filesystem::path()};
  std::optional<layers::CacheLock> lock;  // builds hold the cache shared
  layers::LayerPlan plan;
};

enum class Purpose { plan, build };

// Profile (config errors first), output rules, the build date (the CLI's SOURCE_DATE_EPOCH, or
// the profile's reproducible.source_date_epoch, which wins), verified inputs (a plan downloads
// nothing) and the layer plan: every layer's digest looked up in the cache.
Result<std::unique_ptr<Prepared>> prepare(const BuildOptions& o, layers::Progress& progress,
                                          Purpose purpose) {
  auto b = std::make_unique<Prepared>();
  TRY_ASSIGN(b->profile, config::load_profile(o.profile, o.overrides));
  TRY(config::check_inputs_exist(b->profile));
  b->specs = output_specs(b->profile);
  TRY(exporter::check_outputs(b->specs, b->profile.disk.size.value, b->profile.name.value));
  b->date = o.date;
  if (const auto& sde = b->profile.reproducible.source_date_epoch.value) {
    b->date.source_date_epoch = *sde;
  }
  TRY_ASSIGN(b->inputs, resolve_inputs(b->profile, b->date, progress, purpose == Purpose::build));
  b->cache = open_cache(o);
  if (purpose == Purpose::build && o.no_cache) {
    TRY_ASSIGN(b->private_cache, common::fs::TempDir::create("binder-nocache"));
    b->cache = layers::LayerCache(b->private_cache->path());
  }
  if (purpose == Purpose::build) {
    TRY_ASSIGN(auto lock, layers::CacheLock::acquire(b->cache.dir(), layers::CacheLock::Mode::shared));
    b->lock.emplace(std::move(lock));
  }
  TRY_ASSIGN(b->plan,
             layers::resolve_digests(b->profile, layers::plan_layers(b->profile, b->inputs), b->cache,
                                     o.no_cache ? layers::UseCache::no : layers::UseCache::yes));
  return b;
}

// Reports each layer that must be built, with its reasons; returns the number of cache hits
// (counted now: building marks the built layers as hits).
int report_misses(const layers::LayerPlan& plan, layers::Progress& progress) {
  int hits = 0;
  for (const auto& l : plan.layers) {
    hits += l.hit ? 1 : 0;
    if (!l.hit) {
      progress.event("layer_miss", {{"kind", std::string(l.step->kind())}, {"reasons", l.reasons}},
                     fmt::format("layer '{}' must be built: {}", l.step->kind(), fmt::join(l.reasons, "; ")));
    }
  }
  return hits;
}

// Builds the misses bottom-up. Scratch space (host-side tars) lives in the cache as a
// partial-<pid> name, so an interrupted build's leftovers are found by `cache gc` / `cache clean`.
// The appliance's accelerator is chosen when a layer first launches one (auto never hangs: a
// short KVM probe, TCG fallback); a build without launches skips it.
Result<void> build_layers(Prepared& b, const BuildOptions& o, layers::Progress& progress) {
  TRY_ASSIGN(WorkDir work, WorkDir::create(b.cache.dir()));
  bool accel_reported = false;
  layers::BuildEnv env{[&]() -> Result<image::GuestOptions> {
                         TRY_ASSIGN(base::Accel accel, base::choose_accel(o.accel));
                         if (!accel_reported) {
                           accel_reported = true;
                           progress.event("accel", {{"accel", accel.qemu_arg}, {"reason", accel.reason}},
                                          fmt::format("accelerator: {} ({})", accel.qemu_arg, accel.reason));
                         }
                         return image::GuestOptions{base::guestfs_env(accel), 0};
                       },
                       work.path};
  auto built = layers::build_missing_layers(b.plan, b.cache, env, progress);
  if (!built) {
    return std::unexpected(explain_enospc(built.error()));
  }
  return {};
}

// The SPDX SBOM (export/image_sbom.hpp) from the dpkg status and os-release the final layer kept
// beside it.
Result<exporter::ExportOptions::ExtraFile> sbom_file(const Prepared& b) {
  const std::string& top = b.plan.top().digest;
  stdfs::path status_path = b.cache.sidecar_path(top, "dpkg-status");
  TRY_ASSIGN(auto status, common::fs::read_file_if_exists(status_path));
  if (!status) {
    return fail(Errc::corrupt_state,
                "layer {} has no dpkg status beside it ('{}'); `binder-image cache clean` and rebuild",
                top.substr(0, 16), status_path.string());
  }
  exporter::ImageSbomInputs in;
  in.profile_name = b.profile.name.value;
  in.dpkg_status = std::move(*status);
  TRY_ASSIGN(in.os_release, common::fs::read_file_if_exists(b.cache.sidecar_path(top, "os-release")));
  in.charts_json = b.inputs.charts ? b.inputs.charts->charts_json : nlohmann::json();
  in.created_epoch = b.date.file_time();
  TRY_ASSIGN(std::string doc, exporter::image_sbom(in));
  return exporter::ExportOptions::ExtraFile{b.profile.name.value + ".spdx.json", std::move(doc), "spdx-json"};
}

Result<std::vector<exporter::ExportedFile>> export_image(const Prepared& b, const BuildOptions& o,
                                                         layers::Progress& progress) {
  exporter::ExportOptions options;
  options.source_date_epoch = b.date.source_date_epoch;
  if (!o.no_cache) {  // the last zstd qcow2 per output name, for cluster reuse (gc skips dot names)
    options.cache_dir = b.cache.dir() / ".export";
  }
  TRY_ASSIGN(auto sbom, sbom_file(b));
  options.extra_files.push_back(std::move(sbom));
  auto step = progress.step("export", fmt::format("exporting {} output{} to '{}'", b.specs.size(),
                                                  b.specs.size() == 1 ? "" : "s", o.output_dir.string()));
  auto exported = exporter::export_outputs(b.cache.image_path(b.plan.top().digest), b.specs, o.output_dir,
                                           b.profile.name.value, options);
  if (!exported) {
    return std::unexpected(explain_enospc(exported.error()));
  }
  step.finish("done");
  return exported;
}

// Remembers the layers of this build for `cache gc` (not for --no-cache builds).
void record_build(const Prepared& b, const BuildOptions& o) {
  if (o.no_cache) {
    return;
  }
  std::vector<std::string> digests;
  for (const auto& l : b.plan.layers) {
    digests.push_back(l.digest);
  }
  if (auto r = b.cache.record_build(b.profile.name.value, digests); !r) {
    common::log::warn("recording the build in the cache: {}, ignoring", r.error().to_string());
  }
}

BuildSummary summarize(const Prepared& b, const BuildOptions& o,
                       const std::vector<exporter::ExportedFile>& exported, int cached, int launches,
                       std::chrono::steady_clock::time_point started) {
  BuildSummary summary;
  summary.output_dir = o.output_dir;
  for (const auto& f : exported) {
    summary.outputs.push_back(f.path);
  }
  summary.launches = launches;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  summary.layers_cached = cached;
  summary.layers_built = static_cast<int>(b.plan.layers.size()) - cached;
  return summary;
}

}  // namespace

Result<BuildSummary> build_image(const BuildOptions& o) {
  layers::install_interrupt_handler();
  layers::Progress progress(o.json ? layers::Progress::Mode::json : layers::Progress::Mode::human);
  auto started = std::chrono::steady_clock::now();
  int launches_before = image::Guest::launch_count();

  // Load and check the profile, fetch and verify every input, and look each layer's digest up
  // in the layer cache: config errors stop here, before any work.
  TRY_ASSIGN(auto b, prepare(o, progress, Purpose::build));
  int cached = report_misses(b->plan, progress);

  // Build the missing layers in order, each published atomically before the next.
  TRY(build_layers(*b, o, progress));

  // Export: flatten the top layer into every requested format, plus the SBOM and SHA256SUMS.
  TRY_ASSIGN(auto exported, export_image(*b, o, progress));

  // Manifest: every input and output with its sha256; then remember this build for cache gc.
  TRY(write_manifest(o.output_dir, manifest_json(b->profile, b->inputs, b->plan, exported)));
  record_build(*b, o);

  return summarize(*b, o, exported, cached, image::Guest::launch_count() - launches_before, started);
}

Result<std::string> plan_image(const BuildOptions& o) {
  layers::Progress progress(layers::Progress::Mode::human);
  TRY_ASSIGN(auto b, prepare(o, progress, Purpose::plan));
  return fmt::format("profile '{}' ({})\n", b->profile.name.value, o.profile.string()) +
         layers::format_plan(b->plan);
}

}  // namespace binder::pipeline
