// assemble_rootfs_disk: the stages in order, each one external tool or a few file writes. The
// tree is unpacked and filesystems are built as root or under one fakeroot session (state file),
// so ownership in the image is the tarball's, not the builder's. Only the final rename publishes.
#include "base/assemble.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "base/disk_layout.hpp"
#include "base/grub_bios.hpp"
#include "base/grub_images.hpp"
#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/sparse_copy.hpp"
#include "image/ext4.hpp"

namespace binder::base {

namespace {

using common::Errc;
using common::fail;
namespace exec = common::exec;
namespace cfs = common::fs;
namespace log = common::log;
namespace stdfs = std::filesystem;

// Runs tools that must see root ownership: directly as root, else inside a fakeroot session
// whose state persists between calls.
class RootContext {
 public:
  RootContext(stdfs::path state, std::chrono::seconds timeout)
      : m_state(std::move(state)), m_fake(::geteuid() != 0), m_timeout(timeout) {}
  Result<void> check() const {
    if (m_fake && !exec::find_program("fakeroot")) {
      return fail(Errc::precondition, "not running as root and fakeroot is not installed");
    }
    return {};
  }
  Result<exec::Output> run(std::vector<std::string> argv) const {
    if (m_fake) {
      std::vector<std::string> wrapped{"fakeroot", "-s", m_state.string()};
      if (stdfs::exists(m_state)) {
        wrapped.insert(wrapped.end(), {"-i", m_state.string()});
      }
      wrapped.push_back("--");
      wrapped.insert(wrapped.end(), argv.begin(), argv.end());
      argv = std::move(wrapped);
    }
    return exec::run_checked(argv, {.timeout = m_timeout});
  }

 private:
  stdfs::path m_state;
  bool m_fake;
  std::chrono::seconds m_timeout;
};

// Removes the unpacked tree, also on error paths. Not as root, the tree holds directories
// without write permission (e.g. /proc 0555) that must be opened up first.
class UnpackedTree {
 public:
  explicit UnpackedTree(stdfs::path tree) : m_tree(std::move(tree)) {}
  ~UnpackedTree() { (void)remove(); }
  UnpackedTree(const UnpackedTree&) = delete;
  UnpackedTree& operator=(const UnpackedTree&) = delete;
  Result<void> remove() {
    std::error_code ec;
    if (m_tree.empty() || !stdfs::exists(m_tree, ec)) {
      return {};
    }
    if (::geteuid() != 0) {
      (void)exec::run({"chmod", "-R", "u+rwX", m_tree.string()});
    }
    TRY(cfs::remove_tree(m_tree));
    m_tree.clear();
    return {};
  }

 private:
  stdfs::path m_tree;
};

Result<void> create_sparse(const stdfs::path& path, std::uint64_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int err = errno;
    if (fd >= 0)
      ::close(fd);
    return fail(Errc::io, "creating '{}' ({} bytes): {}", path.string(), size, std::strerror(err));
  }
  ::close(fd);
  return {};
}

// Bytes the tree needs on ext4, generously: file data rounded to 4 KiB + an inode each + 20%.
std::uint64_t estimate_tree_bytes(const stdfs::path& tree) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(tree, stdfs::directory_options::none, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    std::uint64_t size = it->is_regular_file(ec) && !it->is_symlink(ec) ? it->file_size(ec) : 0;
    total += (size + 4095) / 4096 * 4096 + 256;
  }
  return total + total / 5;
}

Result<void> check_tools() {
  for (const char* tool :
       {"tar", "sfdisk", "mke2fs", "mformat", "mmd", "mcopy", "grub-mkimage", "qemu-img"}) {
    if (!exec::find_program(tool)) {
      return fail(Errc::precondition, "'{}' is not installed (ci/deps installs it)", tool);
    }
  }
  if (!stdfs::exists("/usr/lib/grub/i386-pc/boot.img")) {
    return fail(Errc::precondition, "/usr/lib/grub/i386-pc/boot.img is missing (install grub-pc-bin)");
  }
  return {};
}

Result<void> assemble(const stdfs::path& tarball, const stdfs::path& out_qcow2, std::uint64_t size_bytes,
                      const AssembleOptions& options) {
  std::error_code ec;
  if (!stdfs::is_regular_file(tarball, ec)) {
    return fail(Errc::not_found, "the rootfs tarball does not exist or is not a file");
  }
  TRY_ASSIGN(DiskLayout layout, make_layout(size_bytes));
  TRY(check_tools());
  TRY_ASSIGN(cfs::TempDir work, cfs::TempDir::create("binder-assemble", options.work_dir));
  auto tree = work.path() / "tree";
  auto raw = work.path() / "disk.raw";
  TRY(cfs::make_directories(tree));
  UnpackedTree tree_guard(tree);
  RootContext root(work.path() / "fakeroot.state", options.tool_timeout);
  TRY(root.check());

  // 1. Unpack the tree with its ownership, modes and extended attributes.
  auto t0 = std::chrono::steady_clock::now();
  TRY_CTX(root.run({"tar", "-x", "-f", tarball.string(), "-C", tree.string(), "--numeric-owner",
                    "--preserve-permissions", "--xattrs", "--xattrs-include=*"}),
          "unpacking");
  auto needed = estimate_tree_bytes(tree);
  if (needed > layout.root.size) {
    return fail(Errc::invalid_config,
                "disk size {} MiB is too small: the root filesystem needs about {} MiB (+66 MiB for "
                "boot partitions)",
                layout.disk_size / k_mib, needed / k_mib + 1);
  }

  // 2. The boot entry and its static grub.cfg inside the tree.
  TRY_ASSIGN(BootEntry entry, find_boot_entry(tree));
  entry.extra_args = options.extra_kernel_args;
  auto cfg = work.path() / "grub.cfg";
  TRY(cfs::write_file_atomic(cfg, render_grub_cfg(entry)));
  TRY(root.run({"install", "-D", "-m", "0644", "-o", "0", "-g", "0", cfg.string(),
                (tree / "boot/grub/grub.cfg").string()}));
  std::string at = fmt::format("@{}", options.mtime);
  TRY(root.run({"touch", "-h", "-d", at, (tree / "boot/grub/grub.cfg").string(),
                (tree / "boot/grub").string(), (tree / "boot").string()}));
  auto t_unpack = std::chrono::steady_clock::now();

  // 3. Partition table, root filesystem, ESP, BIOS boot code.
  TRY(create_sparse(raw, layout.disk_size));
  TRY(exec::run_checked(
      {"sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", raw.string()},
      {.timeout = options.tool_timeout, .stdin_data = sfdisk_script(layout, options.id_seed)}));
  std::vector<std::string> mke2fs{"env",        fmt::format("E2FSPROGS_FAKE_TIME={}", options.mtime),
                                  "mke2fs",     "-q",
                                  "-F",         "-t",
                                  "ext4",       "-L",
                                  k_root_label, "-b",
                                  "4096"};
  std::string extended = fmt::format("offset={},nodiscard", layout.root.offset);
  if (!options.id_seed.empty()) {
    mke2fs.insert(mke2fs.end(), {"-U", derived_guid(options.id_seed, "root-fs")});
    extended += ",hash_seed=" + derived_guid(options.id_seed, "root-fs-hash");
  }
  mke2fs.insert(mke2fs.end(),
                {"-E", extended, "-d", tree.string(), raw.string(), std::to_string(layout.root.size / 4096)});
  TRY_CTX(root.run(mke2fs), "making the root filesystem");
  {
    // mke2fs -d copies atime/ctime from the unpacked files (the unpack time): stamp them.
    TRY_ASSIGN(image::Ext4Fs fs, image::Ext4Fs::open(raw, layout.root.offset, true));
    fs.set_time(options.mtime);
    TRY_CTX(fs.stamp_times(), "setting the root filesystem's inode times");
    TRY(fs.close());
  }
  TRY(tree_guard.remove());  // now in the filesystem image; frees the space before convert
  auto efi = work.path() / "BOOTX64.EFI";
  auto esp = work.path() / "esp.img";
  auto core = work.path() / "core.img";
  TRY(make_efi_image(efi));
  TRY(make_esp_image(esp, layout.esp.size, efi, options.mtime,
                     options.id_seed.empty() ? "" : derived_guid(options.id_seed, "esp").substr(0, 8)));
  TRY_ASSIGN(std::uintmax_t esp_bytes, cfs::size_of(esp));
  TRY(cfs::copy_range(esp, 0, raw, layout.esp.offset, esp_bytes, cfs::RangeTarget::zeros));
  TRY(make_bios_core_image(core));
  TRY(install_grub_bios(raw, "/usr/lib/grub/i386-pc/boot.img", core, layout.bios_boot.first_lba(),
                        layout.bios_boot.size));
  auto t_disk = std::chrono::steady_clock::now();

  // 4. qcow2, published by rename.
  TRY(cfs::make_directories(out_qcow2.parent_path().empty() ? stdfs::path(".") : out_qcow2.parent_path()));
  cfs::AtomicFile out(out_qcow2);
  TRY(exec::run_checked(
      {"qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw.string(), out.temp_path().string()},
      {.timeout = options.tool_timeout}));
  TRY(out.commit());
  auto t_end = std::chrono::steady_clock::now();
  auto secs = [](auto d) { return log::format_duration(std::chrono::duration<double>(d).count()); };
  log::info("assembled '{}': unpack {}, partitions+filesystems+GRUB {}, qcow2 {} (kernel {})",
            out_qcow2.filename().string(), secs(t_unpack - t0), secs(t_disk - t_unpack), secs(t_end - t_disk),
            entry.kernel);
  return {};
}

}  // namespace

Result<void> assemble_rootfs_disk(const stdfs::path& tarball, const stdfs::path& out_qcow2,
                                  std::uint64_t size_bytes, const AssembleOptions& options) {
  log::Step step(fmt::format("assembling '{}' from rootfs '{}'", out_qcow2.filename().string(),
                             tarball.filename().string()));
  auto r = assemble(tarball, out_qcow2, size_bytes, options);
  if (!r) {
    auto e = r.error();
    e.with_context(fmt::format("assembling a disk from rootfs tarball '{}'", tarball.string()));
    return std::unexpected(std::move(e));
  }
  step.finish("built");
  return {};
}

}  // namespace binder::base
