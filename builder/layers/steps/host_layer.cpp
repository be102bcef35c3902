// See host_layer.hpp.
#include "layers/steps/host_layer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/hash.hpp"
#include "image/ext4.hpp"
#include "image/qemu_img.hpp"

namespace binder::layers::steps {
namespace {

using common::Errc;
using common::fail;
namespace exec = common::exec;

constexpr auto k_tool_timeout = std::chrono::minutes(30);

struct RootFs {
  std::uint64_t offset = 0;
  std::string description;
};

// The root filesystem of a raw disk: the ext2/3/4 partition labelled like Guest::root_device()
// looks for ("root", "cloudimg-rootfs"), else the only one holding an os-release.
Result<RootFs> find_root(const stdfs::path& raw) {
  std::vector<std::pair<std::uint64_t, std::string>> candidates;  // offset, "partition N"
  auto table = exec::run({"sfdisk", "-J", raw.string()}, exec::Options{.timeout = std::chrono::seconds(60)});
  if (table && table->exit_code == 0) {
    auto j = nlohmann::json::parse(table->out, nullptr, false);
    if (j.is_discarded() || !j.contains("partitiontable")) {
      return fail(Errc::precondition, "sfdisk -J printed no partition table for '{}'", raw.string());
    }
    const auto& pt = j["partitiontable"];
    std::uint64_t sector = pt.value("sectorsize", 512);
    int n = 0;
    for (const auto& p : pt.value("partitions", nlohmann::json::array())) {
      ++n;
      candidates.emplace_back(p.value("start", std::uint64_t{0}) * sector, fmt::format("partition {}", n));
    }
  } else {
    candidates.emplace_back(0, "the whole disk");  // no partition table: a bare filesystem
  }
  std::vector<RootFs> with_os_release;
  for (const auto& [offset, name] : candidates) {
    auto fs = image::Ext4Fs::open(raw, offset, false);
    if (!fs) {
      continue;
    }
    std::string label = fs->label();
    RootFs r{offset, fmt::format("{} (label '{}') at offset {}", name, label, offset)};
    if (label == "root" || label == "cloudimg-rootfs") {
      return r;
    }
    for (const char* p : {"/etc/os-release", "/usr/lib/os-release"}) {
      auto st = fs->stat(p);
      if (st && st->has_value()) {
        with_os_release.push_back(r);
        break;
      }
    }
  }
  if (with_os_release.size() == 1) {
    return with_os_release.front();
  }
  return fail(Errc::precondition, "no single ext2/3/4 root filesystem in '{}' ({} with an os-release)",
              raw.string(), with_os_release.size());
}

// Reads back every entry of `tree` from the written filesystem: type, mode, owner, content.
Result<void> verify_tree(const image::Ext4Fs& fs, const image::TarBuilder& tree) {
  for (const image::TarEntry* e : tree.entries()) {
    TRY_ASSIGN(auto st, fs.stat("/" + e->path));
    if (!st) {
      return fail(Errc::internal, "'/{}' is missing after it was written", e->path);
    }
    using T = image::Ext4Stat::Type;
    bool ok = true;
    switch (e->type) {
      case image::TarEntry::Type::file: {
        ok = st->type == T::file && st->mode == (e->mode & 07777) && st->uid == e->uid && st->gid == e->gid;
        if (ok) {
          TRY_ASSIGN(std::string data, fs.read_file("/" + e->path, 1ull << 32));
          std::string want = e->data;
          if (!e->host_path.empty()) {
            TRY_ASSIGN(want, common::fs::read_file(e->host_path));
          }
          ok = data == want;
        }
        break;
      }
      case image::TarEntry::Type::symlink:
        ok = st->type == T::symlink && st->link_target == e->link_target;
        break;
      case image::TarEntry::Type::dir:  // a kept directory symlink (/lib -> usr/lib) is fine
        ok = st->type == T::symlink || (st->type == T::dir && st->mode == (e->mode & 07777));
        break;
    }
    if (!ok) {
      return fail(Errc::internal, "'/{}' does not read back as written", e->path);
    }
  }
  return {};
}

// Copies `ranges` of `raw` into the qcow2 `overlay` at the same offsets (qemu-io, from `dir`).
Result<void> copy_ranges(const stdfs::path& raw, const stdfs::path& overlay,
                         const std::vector<image::ByteRange>& ranges, const stdfs::path& dir) {
  int in = ::open(raw.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    return fail(Errc::io, "opening '{}': {}", raw.string(), std::strerror(errno));
  }
  struct Fd {
    int fd;
    ~Fd() { ::close(fd); }
  } guard{in};
  constexpr std::size_t k_batch = 256;  // commands per qemu-io run (argv length)
  for (std::size_t first = 0; first < ranges.size(); first += k_batch) {
    std::vector<std::string> argv{"qemu-io", "-f", "qcow2"};
    std::size_t last = std::min(ranges.size(), first + k_batch);
    for (std::size_t i = first; i < last; ++i) {
      const auto& r = ranges[i];
      std::string chunk(r.length, '\0');
      ssize_t n = ::pread(in, chunk.data(), chunk.size(), static_cast<off_t>(r.offset));
      if (n != static_cast<ssize_t>(chunk.size())) {
        return fail(Errc::io, "reading {} bytes at {} of '{}'", r.length, r.offset, raw.string());
      }
      std::string name = fmt::format("range-{}", i);
      TRY(common::fs::write_file_atomic(dir / name, chunk, 0600));
      argv.push_back("-c");
      argv.push_back(fmt::format("write -q -s {} {} {}", name, r.offset, r.length));
    }
    argv.push_back(stdfs::absolute(overlay).string());
    auto out = exec::run(argv, exec::Options{.timeout = k_tool_timeout, .cwd = dir});
    for (std::size_t i = first; i < last; ++i) {
      std::error_code ec;
      stdfs::remove(dir / fmt::format("range-{}", i), ec);
    }
    TRY(out);
    if (out->exit_code != 0 || !out->err.empty() || out->out.find("rror") != std::string::npos) {
      return fail(Errc::external_tool, "qemu-io writing into '{}' failed (exit {}): {}{}", overlay.string(),
                  out->exit_code, out->err, out->out);
    }
  }
  return {};
}

}  // namespace

bool host_layers_available() {
  if (const char* v = std::getenv("BINDER_IMAGE_HOST_LAYERS"); v != nullptr && std::string_view(v) == "0") {
    return false;
  }
  return exec::find_program("qemu-io").has_value() && exec::find_program("qemu-img").has_value() &&
         exec::find_program("sfdisk").has_value();
}

Result<HostLayerReport> write_layer_on_host(const stdfs::path& parent, const stdfs::path& out,
                                            const image::TarBuilder& tree, const BuildEnv& env,
                                            std::int64_t mtime, const HostLayerOptions& options) {
  if (!host_layers_available()) {
    return fail(Errc::precondition,
                "host-side layers are off (BINDER_IMAGE_HOST_LAYERS=0) or qemu-io, qemu-img or sfdisk "
                "is not installed");
  }
  TRY_ASSIGN(auto scratch_dir, common::fs::TempDir::create("host-layer", env.work_dir));
  const stdfs::path& scratch = scratch_dir.path();

  // The parent as a sparse raw disk (only its data is written).
  stdfs::path raw = scratch / "disk.raw";
  TRY_CTX(image::convert(parent, raw, image::ConvertOptions{.output_format = "raw"}),
          "reading the parent layer out as a raw disk");
  TRY_ASSIGN(RootFs root, find_root(raw));

  HostLayerReport report;
  report.root = root.description;
  std::vector<image::ByteRange> ranges;
  {
    TRY_ASSIGN(image::Ext4Fs fs, image::Ext4Fs::open(raw, root.offset, true));
    if (options.need_full_disk) {
      TRY_ASSIGN(std::uint64_t disk, common::fs::size_of(raw));
      if (root.offset + fs.size_bytes() + (1u << 20) + 33 * 512 < disk) {
        return fail(Errc::precondition, "the root filesystem ({}, {} bytes) must grow to the {}-byte disk",
                    root.description, fs.size_bytes(), disk);
      }
    }
    fs.set_time(mtime);
    if (options.before) {
      TRY(options.before(fs));
    }
    TRY(fs.apply(tree, mtime));
    if (options.after) {
      TRY(options.after(fs));
    }
    TRY(fs.close());
    ranges = fs.dirty_ranges();
  }
  {
    TRY_ASSIGN(image::Ext4Fs fs, image::Ext4Fs::open(raw, root.offset, false));
    TRY_CTX(verify_tree(fs, tree), "verifying the written files");
    if (options.verify) {
      TRY(options.verify(fs));
    }
    auto optional_file = [&](const char* path) -> Result<std::string> {
      auto text = fs.read_file(path, 64u << 20);
      if (!text && text.error().code == Errc::not_found) {
        return std::string();
      }
      return text;
    };
    TRY_ASSIGN(report.dpkg_status, optional_file("/var/lib/dpkg/status"));
    TRY_ASSIGN(report.os_release, optional_file("/etc/os-release"));
    if (report.os_release.empty()) {
      TRY_ASSIGN(report.os_release, optional_file("/usr/lib/os-release"));
    }
  }
  if (exec::find_program("e2fsck")) {
    auto fsck = exec::run({"e2fsck", "-fn", fmt::format("{}?offset={}", raw.string(), root.offset)},
                          exec::Options{.timeout = k_tool_timeout});
    TRY(fsck);
    if (fsck->exit_code != 0) {
      return fail(Errc::internal, "e2fsck finds the written root filesystem inconsistent: {}{}", fsck->out,
                  fsck->err);
    }
  }

  // Exactly the written ranges go into the new overlay; qemu-img compare proves the result.
  TRY(image::create_overlay(out, parent));
  TRY_CTX(copy_ranges(raw, out, ranges, scratch), "copying the written blocks into the layer");
  auto cmp = exec::run({"qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", raw.string(), out.string()},
                       exec::Options{.timeout = k_tool_timeout});
  TRY(cmp);
  if (cmp->exit_code != 0) {
    return fail(Errc::internal,
                "the new layer '{}' differs from the filesystem written on the host "
                "(qemu-img compare exit {}): {}",
                out.string(), cmp->exit_code, cmp->err);
  }
  for (const auto& r : ranges) {
    report.bytes += r.length;
  }
  report.ranges = ranges.size();
  return report;
}

}  // namespace binder::layers::steps
