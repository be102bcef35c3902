// The export stage: one job per requested output, run by `jobs` worker threads. Outputs that
// need a flat raw copy (compressed raws, GCP) share one, made by a job queued first, so with two
// workers the raw is flattened while another output (e.g. the qcow2) converts; dependent jobs wait
// for it. Every job writes into its own directory inside a staging directory under out_dir (same
// filesystem, so publishing is a rename). Only when every job has succeeded: the old SHA256SUMS
// is removed, the outputs are renamed into place, and the new SHA256SUMS is written last.
#include "export/export.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "common/fs.hpp"
#include "common/hash.hpp"
#include "common/log.hpp"
#include "export/formats.hpp"
#include "image/qemu_img.hpp"

namespace binder::exporter {
namespace {

using common::Errc;
using common::fail;
namespace fs = common::fs;
namespace log = common::log;
using detail::Path;

bool needs_raw(const OutputSpec& s) {
  return s.format == "gcp-tar" || (s.format == "raw" && effective_compression(s) != "none");
}

Result<Path> write_one(const OutputSpec& spec, const std::string& file_name, const detail::Source& src,
                       const ExportOptions& options, const Path& dir) {
  TRY(fs::make_directories(dir));
  const std::string c = effective_compression(spec);
  if (spec.format == "qcow2") {
    return detail::write_qcow2(src, c, dir, file_name);
  }
  if (spec.format == "raw") {
    return detail::write_raw(src, c, dir, file_name);
  }
  if (spec.format == "vmdk") {
    return detail::write_vmdk(src, dir, file_name);
  }
  if (spec.format == "ova") {
    return detail::write_ova(src, options, dir, file_name);
  }
  if (spec.format == "vhd") {
    return detail::write_vhd(src, dir, file_name);
  }
  return detail::write_gcp_tar(src, dir, file_name);
}

// Runs `tasks` on `jobs` threads in queue order; a task is skipped once `stop` is set.
void run_pool(std::vector<std::function<void()>>& tasks, int jobs) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < tasks.size();) {
      tasks[i]();
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < std::max(1, jobs); ++t) {
    threads.emplace_back(worker);
  }
  worker();
  for (auto& t : threads) {
    t.join();
  }
}

Result<void> write_sha256sums(const Path& out_dir, const std::vector<ExportedFile>& files) {
  std::map<std::string, std::string> sorted;
  for (const auto& f : files) {
    sorted[f.path.filename().string()] = f.sha256;
  }
  std::string text;
  for (const auto& [name, sha] : sorted) {
    text += fmt::format("{}  {}\n", sha, name);
  }
  return fs::write_file_atomic(out_dir / "SHA256SUMS", text);
}

// Staging directories are ".binder-export-<pid>-XXXXXX": a build killed mid-export leaves one
// holding a half-written output (gigabytes); the next export into the same directory removes
// those whose process is gone.
constexpr const char* k_staging_prefix = ".binder-export-";

void remove_dead_staging(const Path& out_dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(out_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with(k_staging_prefix) || !it->is_directory()) {
      continue;
    }
    int pid = std::atoi(name.c_str() + std::strlen(k_staging_prefix));
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) {
      log::info("removing '{}', left by a killed export (process {})", it->path().string(), pid);
      (void)fs::remove_tree(it->path());
    }
  }
}

}  // namespace

Result<std::vector<ExportedFile>> export_outputs(const Path& top_qcow2, const std::vector<OutputSpec>& specs,
                                                 const Path& out_dir, const std::string& base_name,
                                                 const ExportOptions& options) {
  TRY_ASSIGN(image::ImageInfo info, image::info(top_qcow2, "qcow2"));
  TRY(check_outputs(specs, info.virtual_size, base_name));
  TRY(fs::make_directories(out_dir));
  remove_dead_staging(out_dir);
  TRY_ASSIGN(fs::TempDir staging,
             fs::TempDir::create(fmt::format("{}{}", k_staging_prefix, ::getpid()), out_dir));

  detail::Source src;
  src.top = top_qcow2;
  src.virtual_size = info.virtual_size;
  src.epoch = options.source_date_epoch;
  src.native_qcow2 = options.native_qcow2;
  src.qcow2_cache = options.cache_dir;
  src.compress_threads = options.compress_threads;

  std::atomic<bool> stop{false};
  std::vector<std::function<void()>> tasks;
  // The shared raw, if any output needs it; its job goes first in the queue.
  std::promise<Result<Path>> raw_promise;
  std::shared_future<Result<Path>> raw_future = raw_promise.get_future().share();
  bool want_raw = std::any_of(specs.begin(), specs.end(), needs_raw);
  if (want_raw) {
    tasks.emplace_back([&] {
      log::Step step("flattening the disk to raw");
      Path raw = staging.path() / "shared" / "disk.raw";
      Result<Path> r = [&]() -> Result<Path> {
        TRY(fs::make_directories(raw.parent_path()));
        image::ConvertOptions co;
        co.output_format = "raw";
        TRY(image::convert(top_qcow2, raw, co));
        return raw;
      }();
      if (!r) {
        stop = true;
      } else {
        step.finish("done");
      }
      raw_promise.set_value(std::move(r));
    });
  } else {
    raw_promise.set_value(Path{});
  }

  std::vector<Result<ExportedFile>> results(specs.size(), fail(Errc::interrupted, "not run"));
  std::vector<std::size_t> order;  // independent outputs first, raw-dependent ones after
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (!needs_raw(specs[i]) && !(specs[i].format == "raw" && want_raw)) {
      order.push_back(i);
    }
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (needs_raw(specs[i]) || (specs[i].format == "raw" && want_raw)) {
      order.push_back(i);
    }
  }
  for (std::size_t i : order) {
    tasks.emplace_back([&, i] {
      const OutputSpec& spec = specs[i];
      const std::string name = output_file_name(spec, base_name);
      if (stop) {
        results[i] = fail(Errc::interrupted, "skipped after an earlier output failed");
        return;
      }
      log::Step step(fmt::format("exporting '{}'", name));
      detail::Source s = src;
      if (needs_raw(spec) || spec.format == "raw") {
        const Result<Path>& raw = raw_future.get();
        if (!raw) {
          results[i] = std::unexpected(raw.error());
          return;
        }
        s.raw = *raw;
      }
      Path dir = staging.path() / std::to_string(i);
      Result<ExportedFile> r = [&]() -> Result<ExportedFile> {
        TRY_ASSIGN(Path p, write_one(spec, name, s, options, dir));
        ExportedFile f{out_dir / name, "", 0, spec.format, effective_compression(spec), 0};
        TRY_ASSIGN(f.sha256, common::hash::sha256_file(p));
        TRY_ASSIGN(f.size, fs::size_of(p));
        f.seconds = step.elapsed_seconds();
        return f;
      }();
      if (!r) {
        stop = true;
        r.error().with_context(fmt::format("exporting '{}'", name));
      } else {
        step.finish("written");
        if (options.on_output) {
          options.on_output(*r);
        }
      }
      results[i] = std::move(r);
    });
  }
  run_pool(tasks, options.jobs);

  if (!raw_future.get()) {
    return std::unexpected(raw_future.get().error());
  }
  std::vector<ExportedFile> files;
  for (auto& r : results) {
    if (!r && r.error().code != Errc::interrupted) {
      return std::unexpected(r.error());
    }
  }
  for (auto& r : results) {
    if (!r) {
      return std::unexpected(r.error());
    }
    files.push_back(std::move(*r));
  }
  std::size_t staged_outputs = files.size();
  for (const auto& extra : options.extra_files) {
    for (const auto& f : files) {
      if (extra.name.empty() || extra.name.find('/') != std::string::npos ||
          f.path.filename() == extra.name) {
        return fail(Errc::internal, "extra export file name '{}' is empty, a path or taken", extra.name);
      }
    }
    Path p = staging.path() / "extra" / extra.name;
    TRY(fs::make_directories(p.parent_path()));
    TRY(fs::write_file_atomic(p, extra.content, 0644));
    ExportedFile f{out_dir / extra.name,
                   common::hash::sha256_hex(extra.content),
                   extra.content.size(),
                   extra.format,
                   "none",
                   0};
    files.push_back(std::move(f));
  }
  // Publish: the old SHA256SUMS goes first, so a crash below never leaves it describing a mix.
  std::error_code ec;
  std::filesystem::remove(out_dir / "SHA256SUMS", ec);
  for (std::size_t i = 0; i < files.size(); ++i) {
    Path staged = i < staged_outputs ? staging.path() / std::to_string(i) / files[i].path.filename()
                                     : staging.path() / "extra" / files[i].path.filename();
    TRY(fs::rename_path(staged, files[i].path));
  }
  TRY(fs::fsync_dir(out_dir));
  if (options.write_sha256sums) {
    TRY(write_sha256sums(out_dir, files));
  }
  return files;
}

}  // namespace binder::exporter
