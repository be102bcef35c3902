// grub-mkimage and mtools invocations. The early config is the same for BIOS and UEFI: find the
// filesystem labelled "root", point $prefix at its /boot/grub and load the static grub.cfg there.
#include "base/grub_images.hpp"

#include <algorithm>
#include <vector>

#include "base/disk_layout.hpp"
#include "common/exec.hpp"
#include "common/fs.hpp"

namespace binder::base {

namespace {

using common::Errc;
using common::fail;
namespace exec = common::exec;
namespace cfs = common::fs;
namespace stdfs = std::filesystem;

const std::vector<std::string> k_common_modules{
    "part_gpt", "part_msdos", "ext2",       "fat",  "search", "search_label", "search_fs_uuid",
    "normal",   "linux",      "configfile", "echo", "test",   "serial",       "terminal",
    "gzio",     "boot",       "minicmd",    "ls",   "cat"};

std::string early_config(const GrubConfigAt& at) {
  return fmt::format(
      "search --no-floppy --label {0} --set=root\n"
      "if [ -z \"$root\" ]; then echo 'binder-image: no filesystem labelled {0}'; fi\n"
      "set prefix=($root){1}\n"
      "configfile ($root){1}/grub.cfg\n",
      at.label, at.dir);
}

Result<void> mkimage(const std::string& format, const std::string& platform_dir,
                     const std::vector<std::string>& extra_modules, const stdfs::path& out,
                     const GrubConfigAt& at) {
  auto dir = stdfs::path("/usr/lib/grub") / platform_dir;
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) {
    return fail(Errc::precondition, "GRUB modules for {} not found in '{}' (install grub-{}-bin)", format,
                dir.string(), platform_dir == "i386-pc" ? "pc" : "efi-amd64");
  }
  auto cfg = out.parent_path() / (out.filename().string() + ".early.cfg");
  TRY(cfs::write_file_atomic(cfg, early_config(at)));
  std::vector<std::string> argv{"grub-mkimage", "-O", format,       "-d", dir.string(), "-p",
                                at.dir,         "-c", cfg.string(), "-o", out.string()};
  argv.insert(argv.end(), k_common_modules.begin(), k_common_modules.end());
  argv.insert(argv.end(), extra_modules.begin(), extra_modules.end());
  TRY(exec::run_checked(argv, {.timeout = std::chrono::minutes(2)}));
  stdfs::remove(cfg, ec);
  return {};
}

// "6.1.0-9" < "6.1.0-56": digit runs compare as numbers (like `sort -V` for kernel versions).
bool version_less(const std::string& a, const std::string& b) {
  std::size_t i = 0;
  std::size_t j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      std::size_t ei = i;
      std::size_t ej = j;
      while (ei < a.size() && digit(a[ei]))
        ++ei;
      while (ej < b.size() && digit(b[ej]))
        ++ej;
      auto na = std::stoull(a.substr(i, std::min<std::size_t>(ei - i, 18)));
      auto nb = std::stoull(b.substr(j, std::min<std::size_t>(ej - j, 18)));
      if (na != nb)
        return na < nb;
      i = ei;
      j = ej;
    } else {
      if (a[i] != b[j])
        return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::string version_of(const std::string& filename, std::string_view prefix) {
  return filename.substr(prefix.size());
}

// Resolves a symlink at tree/name inside the tree; empty if it does not lead to a regular file.
std::string resolve_in_tree(const stdfs::path& tree, const std::string& name) {
  std::error_code ec;
  auto link = tree / name.substr(1);
  if (!stdfs::is_symlink(link, ec)) {
    return stdfs::is_regular_file(link, ec) ? name : std::string{};
  }
  auto target = stdfs::read_symlink(link, ec);
  if (ec)
    return {};
  auto inside = target.is_absolute() ? tree / target.relative_path() : link.parent_path() / target;
  return stdfs::is_regular_file(inside, ec) ? name : std::string{};
}

}  // namespace

Result<BootEntry> find_boot_entry(const stdfs::path& tree) {
  BootEntry entry;
  entry.kernel = resolve_in_tree(tree, "/vmlinuz");
  entry.initrd = resolve_in_tree(tree, "/initrd.img");
  if (!entry.kernel.empty() && !entry.initrd.empty()) {
    return entry;
  }
  std::vector<std::string> versions;
  std::error_code ec;
  for (auto it = stdfs::directory_iterator(tree / "boot", ec); !ec && it != stdfs::directory_iterator();
       it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.starts_with("vmlinuz-") &&
        stdfs::exists(tree / "boot" / ("initrd.img-" + version_of(name, "vmlinuz-")))) {
      versions.push_back(version_of(name, "vmlinuz-"));
    }
  }
  if (versions.empty()) {
    return fail(Errc::precondition,
                "no kernel with an initrd found (/vmlinuz + /initrd.img, or /boot/vmlinuz-* + "
                "/boot/initrd.img-*)");
  }
  std::sort(versions.begin(), versions.end(), version_less);
  entry.kernel = "/boot/vmlinuz-" + versions.back();
  entry.initrd = "/boot/initrd.img-" + versions.back();
  return entry;
}

std::string render_grub_cfg(const BootEntry& e) {
  return fmt::format(
      "# Static GRUB configuration written by binder-image when it assembled this disk from a\n"
      "# rootfs tarball (no grub-install, no update-grub). GRUB itself is in the BIOS boot\n"
      "# partition and in EFI/BOOT/BOOTX64.EFI on the ESP; both load this file.\n"
      "serial --unit=0 --speed=115200\n"
      "terminal_input serial console\n"
      "terminal_output serial console\n"
      "set default=0\n"
      "set timeout=1\n"
      "\n"
      "menuentry 'Debian GNU/Linux' {{\n"
      "    search --no-floppy --label {} --set=root\n"
      "    linux {} root=LABEL={} ro console=tty0 console=ttyS0,115200{}{}\n"
      "    initrd {}\n"
      "}}\n",
      k_root_label, e.kernel, k_root_label, e.extra_args.empty() ? "" : " ", e.extra_args, e.initrd);
}

Result<void> make_bios_core_image(const stdfs::path& out, const GrubConfigAt& at) {
  return mkimage("i386-pc", "i386-pc", {"biosdisk"}, out, at);
}

Result<void> make_efi_image(const stdfs::path& out, const GrubConfigAt& at) {
  return mkimage("x86_64-efi", "x86_64-efi", {"all_video"}, out, at);
}

Result<void> make_esp_image(const stdfs::path& out, std::uint64_t size, const stdfs::path& efi_binary,
                            std::int64_t mtime, const std::string& serial, const std::string& label) {
  exec::Options options{.timeout = std::chrono::minutes(1),
                        .env = {{"MTOOLS_SKIP_CHECK", "1"}, {"SOURCE_DATE_EPOCH", std::to_string(mtime)}}};
  auto image = out.string();
  std::error_code ec;
  stdfs::remove(out, ec);
  std::vector<std::string> mformat{"mformat", "-i", image, "-C", "-T", std::to_string(size / k_sector),
                                   "-h",      "64", "-s",  "32", "-v", label};
  if (!serial.empty()) {
    mformat.insert(mformat.end(), {"-N", serial});
  }
  mformat.push_back("::");
  TRY(exec::run_checked(mformat, options));
  TRY(exec::run_checked({"mmd", "-i", image, "::/EFI", "::/EFI/BOOT"}, options));
  TRY(exec::run_checked({"touch", "-d", fmt::format("@{}", mtime), efi_binary.string()}));
  TRY(exec::run_checked({"mcopy", "-m", "-i", image, efi_binary.string(), "::/EFI/BOOT/BOOTX64.EFI"},
                        options));
  return {};
}

}  // namespace binder::base
