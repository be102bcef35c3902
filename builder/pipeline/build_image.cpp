// See build_image.hpp. One comment and one call per stage: the architecture reads in one screen.
#include "pipeline/build_image.hpp"

#include <unistd.h>

#include <cstdlib>

#include "base/accel.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "config/load.hpp"
#include "export/export.hpp"
#include "export/sbom.hpp"
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

Result<config::Profile> load_and_validate(const BuildOptions& o) {
  TRY_ASSIGN(config::Profile profile, config::load_profile(o.profile, o.overrides));
  TRY(config::check_inputs_exist(profile));
  if (profile.reproducible.source_date_epoch.value) {
    ::setenv("SOURCE_DATE_EPOCH", std::to_string(*profile.reproducible.source_date_epoch.value).c_str(), 1);
  }
  return profile;
}

std::vector<exporter::OutputSpec> output_specs(const config::Profile& p) {
  std::vector<exporter::OutputSpec> specs;
  for (const auto& o : p.outputs) {
    specs.push_back(exporter::OutputSpec{std::string(config::to_string(o.format.value)),
                                         std::string(config::to_string(o.compression.value)),
                                         o.name.value});
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

// KEY=value lines of an os-release file (quotes removed).
std::string os_release_value(const std::string& text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == '=') {
      std::string v = line.substr(key.size() + 1);
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
        v = v.substr(1, v.size() - 2);
      }
      return v;
    }
  }
  return "";
}

// The baked charts as SBOM components: the source archive, the packaged chart, every dependency,
// cert-manager and its CRDs (from charts.json, which holds every URL and digest).
std::vector<exporter::ExtraPackage> chart_packages(const layers::ResolvedInputs& in) {
  std::vector<exporter::ExtraPackage> out;
  if (!in.charts) {
    return out;
  }
  const auto& j = in.charts->charts_json;
  const auto& m = j["mybinder"];
  const auto& src = m["source"];
  auto hex = [](std::string d) { return d.starts_with("sha256:") ? d.substr(7) : d; };
  out.push_back({"mybinder.org-deploy", src["commit"].get<std::string>(), src["url"].get<std::string>(),
                 src["sha256"].get<std::string>(),
                 "pkg:github/jupyterhub/mybinder.org-deploy@" + src["commit"].get<std::string>(),
                 src["sha256_pinned"].get<bool>() ? "source archive, sha256 pinned"
                                                  : "source archive, verified by its commit id; sha256 as downloaded"});
  std::string excluded;
  for (const auto& e : m["excluded_files"]) {
    excluded += (excluded.empty() ? "" : ", ") + e.get<std::string>();
  }
  std::string images;
  for (const auto& [path, ref] : m["images"].items()) {
    images += (images.empty() ? "" : ", ") + path + "=" + ref.get<std::string>();
  }
  out.push_back({"mybinder", m["version"].get<std::string>(), src["url"].get<std::string>(),
                 m["sha256"].get<std::string>(), "",
                 fmt::format("packaged at build time as {}; chartpress images: {}; excluded (git-crypt): {}",
                             m["file"].get<std::string>(), images, excluded.empty() ? "none" : excluded)});
  for (const auto& d : m["dependencies"]) {
    out.push_back({d["name"].get<std::string>(), d["version"].get<std::string>(), d["url"].get<std::string>(),
                   hex(d["digest"].get<std::string>()),
                   fmt::format("pkg:helm/{}@{}?repository_url={}", d["name"].get<std::string>(),
                               d["version"].get<std::string>(), d["repository"].get<std::string>()),
                   "dependency of the mybinder chart"});
  }
  const auto& cm = j["cert_manager"];
  out.push_back({"cert-manager", cm["version"].get<std::string>(), cm["repository"].get<std::string>(),
                 cm["sha256"].get<std::string>(),
                 fmt::format("pkg:helm/cert-manager@{}?repository_url={}", cm["version"].get<std::string>(),
                             cm["repository"].get<std::string>()),
                 "Helm chart"});
  out.push_back({"cert-manager-crds", cm["version"].get<std::string>(), cm["crds_url"].get<std::string>(),
                 cm["crds_sha256"].get<std::string>(), "", "cert-manager.crds.yaml of that release"});
  return out;
}

// The SPDX SBOM of the image's packages, from the dpkg status the final layer kept beside it,
// plus the baked charts.
Result<exporter::ExportOptions::ExtraFile> sbom_file(const layers::LayerCache& cache,
                                                     const std::string& top, const config::Profile& p,
                                                     const layers::ResolvedInputs& in) {
  stdfs::path status_path = cache.sidecar_path(top, "dpkg-status");
  auto status = common::fs::read_file_if_exists(status_path);
  TRY(status);
  if (!*status) {
    return fail(Errc::corrupt_state,
                "layer {} has no dpkg status beside it ('{}'); `binder-image cache clean` and rebuild",
                top.substr(0, 16), status_path.string());
  }
  TRY_ASSIGN(auto os, common::fs::read_file_if_exists(cache.sidecar_path(top, "os-release")));
  exporter::SbomInfo info;
  info.document_name = "binder-image-" + p.name.value;
  info.extra_packages = chart_packages(in);
  info.created_epoch = image::source_date_epoch();
  if (os) {
    std::string id = os_release_value(*os, "ID");
    info.distro = id.empty() ? info.distro : id;
    info.distro_version = os_release_value(*os, "VERSION_ID");
  }
  TRY_ASSIGN(std::string doc, exporter::spdx_sbom_from_dpkg_status(**status, info));
  return exporter::ExportOptions::ExtraFile{p.name.value + ".spdx.json", std::move(doc), "spdx-json"};
}

}  // namespace

Result<BuildSummary> build_image(const BuildOptions& o) {
  layers::install_interrupt_handler();
  layers::Progress progress(o.json ? layers::Progress::Mode::json : layers::Progress::Mode::human);
  auto started = std::chrono::steady_clock::now();
  int launches_before = image::Guest::launch_count();

  // Load and validate the profile and its output rules: config errors stop before any work.
  TRY_ASSIGN(config::Profile profile, load_and_validate(o));
  auto specs = output_specs(profile);
  TRY(exporter::check_outputs(specs, profile.disk.size.value, profile.name.value));

  // Fetch and verify the base image, k3s files, firstboot binary and member metadata.
  TRY_ASSIGN(layers::ResolvedInputs inputs, resolve_inputs(profile, progress));

  // Hash every layer's inputs bottom-up and look the digests up in the layer cache.
  std::optional<common::fs::TempDir> private_cache;
  layers::LayerCache cache = open_cache(o);
  if (o.no_cache) {
    TRY_ASSIGN(private_cache, common::fs::TempDir::create("binder-nocache"));
    cache = layers::LayerCache(private_cache->path());
  }
  TRY_ASSIGN(layers::CacheLock lock, layers::CacheLock::acquire(cache.dir(), layers::CacheLock::Mode::shared));
  TRY_ASSIGN(layers::LayerPlan plan,
             layers::resolve_digests(profile, layers::plan_layers(profile, inputs), cache,
                                     o.no_cache ? layers::UseCache::no : layers::UseCache::yes));
  for (const auto& l : plan.layers) {
    if (!l.hit) {
      progress.event("layer_miss", {{"kind", std::string(l.step->kind())}, {"reasons", l.reasons}},
                     fmt::format("layer '{}' must be built: {}", l.step->kind(),
                                 fmt::join(l.reasons, "; ")));
    }
  }

  // Build the missing layers in order, each published atomically before the next.
  // Scratch space (host-side tars) lives in the cache as a partial-<pid> name, so an interrupted
  // build's leftovers are found by `cache gc` / `cache clean`.
  TRY_ASSIGN(WorkDir work, WorkDir::create(cache.dir()));
  // The accelerator for the libguestfs appliance is chosen when a layer first launches one
  // (auto never hangs: a short KVM probe, TCG fallback); a build without launches skips it.
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
  int cached = 0;
  for (const auto& l : plan.layers) {
    cached += l.hit ? 1 : 0;
  }
  auto built = layers::build_missing_layers(plan, cache, env, progress);
  if (!built) {
    return std::unexpected(explain_enospc(built.error()));
  }

  // SBOM: the packages in the image, as SPDX JSON published with the outputs.
  exporter::ExportOptions export_options;
  TRY_ASSIGN(auto sbom, sbom_file(cache, plan.top().digest, profile, inputs));
  export_options.extra_files.push_back(std::move(sbom));

  // Export: flatten the top layer into every requested format (+ SBOM, SHA256SUMS), atomically.
  auto export_step = progress.step("export", fmt::format("exporting {} output{} to '{}'", specs.size(),
                                                         specs.size() == 1 ? "" : "s",
                                                         o.output_dir.string()));
  auto exported = exporter::export_outputs(cache.image_path(plan.top().digest), specs,
                                           o.output_dir, profile.name.value, export_options);
  if (!exported) {
    return std::unexpected(explain_enospc(exported.error()));
  }
  export_step.finish("done");

  // Manifest: every input and output with its sha256; then remember this build for cache gc.
  TRY(write_manifest(o.output_dir, manifest_json(profile, inputs, plan, *exported)));
  std::vector<std::string> digests;
  for (const auto& l : plan.layers) {
    digests.push_back(l.digest);
  }
  if (!o.no_cache) {
    if (auto r = cache.record_build(profile.name.value, digests); !r) {
      common::log::warn("recording the build in the cache: {}, ignoring", r.error().to_string());
    }
  }

  BuildSummary summary;
  summary.output_dir = o.output_dir;
  for (const auto& f : *exported) {
    summary.outputs.push_back(f.path);
  }
  summary.launches = image::Guest::launch_count() - launches_before;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  summary.layers_cached = cached;
  summary.layers_built = static_cast<int>(plan.layers.size()) - cached;
  return summary;
}

Result<std::string> plan_image(const BuildOptions& o) {
  layers::Progress progress(layers::Progress::Mode::human);
  TRY_ASSIGN(config::Profile profile, load_and_validate(o));
  TRY(exporter::check_outputs(output_specs(profile), profile.disk.size.value, profile.name.value));
  TRY_ASSIGN(layers::ResolvedInputs inputs, resolve_inputs(profile, progress, false));
  layers::LayerCache cache = open_cache(o);
  TRY_ASSIGN(layers::LayerPlan plan,
             layers::resolve_digests(profile, layers::plan_layers(profile, inputs), cache,
                                     o.no_cache ? layers::UseCache::no : layers::UseCache::yes));
  return fmt::format("profile '{}' ({})\n", profile.name.value, o.profile.string()) +
         layers::format_plan(plan);
}

}  // namespace binder::pipeline

