#include "base/assemble.hpp"

#include <catch2/catch.hpp>

#include "base/disk_layout.hpp"
#include "base/grub_bios.hpp"
#include "base/grub_images.hpp"
#include "common/exec.hpp"
#include "common/fs.hpp"

using namespace binder::base;
namespace cfs = binder::common::fs;
namespace exec = binder::common::exec;
namespace stdfs = std::filesystem;

namespace {
std::uint64_t le(const std::string& s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}
}  // namespace

TEST_CASE("disk layout: BIOS boot, ESP and root at fixed MiB offsets", "[assemble]") {
  auto l = make_layout(3ull * 1024 * k_mib - 5);  // rounded up to 3 GiB
  REQUIRE(l);
  CHECK(l->disk_size == 3ull * 1024 * k_mib);
  CHECK(l->bios_boot.first_lba() == 2048);
  CHECK(l->esp.first_lba() == 4096);
  CHECK(l->esp.sectors() == 131072);
  CHECK(l->root.first_lba() == 135168);
  CHECK(l->root.size % 4096 == 0);
  CHECK(l->root.offset + l->root.size <= l->disk_size - 33 * 512);
  auto script = sfdisk_script(*l);
  CHECK(script.find("label: gpt\n") == 0);
  CHECK(script.find("start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649") != std::string::npos);
  CHECK(script.find("start=4096, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B") !=
        std::string::npos);
  auto tiny = make_layout(100 * k_mib);
  REQUIRE_FALSE(tiny);
  CHECK(tiny.error().message.find("too small") != std::string::npos);
}

TEST_CASE("grub bios: boot sector keeps the partition table and points at core.img", "[assemble]") {
  std::string boot(512, '\xAB');
  std::string mbr(512, '\0');
  for (std::size_t i = 0x1b8; i < 0x1fe; ++i)
    mbr[i] = static_cast<char>(i & 0xff);
  auto s = patch_boot_sector(boot, mbr, 2048);
  REQUIRE(s);
  CHECK(le(*s, 0x5c, 8) == 2048);
  CHECK(static_cast<unsigned char>((*s)[0x66]) == 0x90);
  CHECK(static_cast<unsigned char>((*s)[0x67]) == 0x90);
  CHECK(s->substr(0x1b8, 0x1fe - 0x1b8) == mbr.substr(0x1b8, 0x1fe - 0x1b8));
  CHECK(static_cast<unsigned char>((*s)[0]) == 0xAB);
  CHECK(static_cast<unsigned char>((*s)[0x1fe]) == 0xAB);  // boot.img's own signature bytes
  CHECK_FALSE(patch_boot_sector(std::string(100, 'x'), mbr, 1));
}

TEST_CASE("grub bios: core.img's blocklist covers its remaining sectors", "[assemble]") {
  std::string core(512 * 3 + 100, '\x11');
  auto c = patch_core_image(core, 2048, 1024 * 1024);
  REQUIRE(c);
  CHECK(c->size() == 512 * 4);
  CHECK(le(*c, 500, 8) == 2049);
  CHECK(le(*c, 508, 2) == 3);
  CHECK(le(*c, 510, 2) == 0x820);
  CHECK(le(*c, 488, 8) == 0);
  auto big = patch_core_image(std::string(4096, 'x'), 2048, 2048);
  REQUIRE_FALSE(big);
  CHECK(big.error().message.find("does not fit") != std::string::npos);
}

TEST_CASE("grub config: kernel symlinks preferred, else the newest versioned kernel", "[assemble]") {
  auto tmp = cfs::TempDir::create("binder-boot-entry").value();
  auto tree = tmp.path();
  REQUIRE(cfs::make_directories(tree / "boot"));
  for (auto v : {"6.1.0-9-cloud-amd64", "6.1.0-56-cloud-amd64", "6.1.0-10-cloud-amd64"}) {
    REQUIRE(cfs::write_file_atomic(tree / "boot" / (std::string("vmlinuz-") + v), "k"));
    REQUIRE(cfs::write_file_atomic(tree / "boot" / (std::string("initrd.img-") + v), "i"));
  }
  REQUIRE(cfs::write_file_atomic(tree / "boot" / "vmlinuz-7.0.0-no-initrd", "k"));
  auto e = find_boot_entry(tree);
  REQUIRE(e);
  CHECK(e->kernel == "/boot/vmlinuz-6.1.0-56-cloud-amd64");
  CHECK(e->initrd == "/boot/initrd.img-6.1.0-56-cloud-amd64");
  stdfs::create_symlink("boot/vmlinuz-6.1.0-10-cloud-amd64", tree / "vmlinuz");
  stdfs::create_symlink("/boot/initrd.img-6.1.0-10-cloud-amd64",
                        tree / "initrd.img");  // absolute: in-tree
  e = find_boot_entry(tree);
  REQUIRE(e);
  CHECK(e->kernel == "/vmlinuz");
  CHECK(e->initrd == "/initrd.img");
  auto cfg = render_grub_cfg(*e);
  CHECK(cfg.find("linux /vmlinuz root=LABEL=root ro console=tty0 console=ttyS0,115200\n") !=
        std::string::npos);
  CHECK(cfg.find("initrd /initrd.img\n") != std::string::npos);
  auto empty = cfs::TempDir::create("binder-boot-entry").value();
  auto none = find_boot_entry(empty.path());
  REQUIRE_FALSE(none);
  CHECK(none.error().message.starts_with("no kernel with an initrd found"));
}

TEST_CASE("assemble: a tiny tree becomes a GPT disk with ext4 root, ESP and BIOS boot code", "[assemble]") {
  auto tmp = cfs::TempDir::create("binder-assemble-tiny").value();
  auto tree = tmp.path() / "tree";
  REQUIRE(cfs::write_file_atomic(tree / "boot/vmlinuz-1.0", "kernel"));
  REQUIRE(cfs::write_file_atomic(tree / "boot/initrd.img-1.0", "initrd"));
  REQUIRE(cfs::write_file_atomic(tree / "etc/owned", "x"));
  REQUIRE(cfs::write_file_atomic(tree / "proc/.keep", ""));
  stdfs::permissions(tree / "proc", stdfs::perms::owner_read | stdfs::perms::owner_exec |
                                        stdfs::perms::group_read | stdfs::perms::group_exec |
                                        stdfs::perms::others_read | stdfs::perms::others_exec);
  auto tarball = tmp.path() / "tiny.tar";
  // Owned by uid 1234 in the tarball whoever runs this: the image must keep it (root or fakeroot).
  REQUIRE(exec::run_checked({"tar", "-C", tree.string(), "--owner=1234", "--group=1234", "--numeric-owner",
                             "-cf", tarball.string(), "."}));
  stdfs::permissions(tree / "proc", stdfs::perms::owner_write, stdfs::perm_options::add);
  auto out = tmp.path() / "out" / "tiny.qcow2";
  auto r = assemble_rootfs_disk(tarball, out, 200 * k_mib, {.work_dir = tmp.path()});
  REQUIRE(r);
  // The scratch directory (with its read-only /proc when not root) is gone.
  for (const auto& e : stdfs::directory_iterator(tmp.path())) {
    CHECK_FALSE(e.path().filename().string().starts_with("binder-assemble"));
  }
  auto raw = tmp.path() / "tiny.raw";
  REQUIRE(exec::run_checked({"qemu-img", "convert", "-O", "raw", out.string(), raw.string()}));
  CHECK(stdfs::file_size(raw) == 200 * k_mib);

  auto parts = exec::run_checked({"sfdisk", "--dump", raw.string()});
  REQUIRE(parts);
  CHECK(parts->out.find("start=        2048, size=        2048, type=21686148-6449-6E6F-744E-656564454649") !=
        std::string::npos);
  CHECK(parts->out.find("start=      135168") != std::string::npos);

  auto root = raw.string() + "?offset=" + std::to_string(66 * k_mib);
  auto owned = exec::run_checked({"debugfs", "-R", "stat /etc/owned", root});
  REQUIRE(owned);
  CHECK(owned->out.find("User:  1234") != std::string::npos);
  auto cfg = exec::run_checked({"debugfs", "-R", "cat /boot/grub/grub.cfg", root});
  REQUIRE(cfg);
  CHECK(cfg->out.find("linux /boot/vmlinuz-1.0 root=LABEL=root") != std::string::npos);
  auto label = exec::run_checked({"debugfs", "-R", "stats", root});
  REQUIRE(label);
  CHECK(label->out.find("Filesystem volume name:   root") != std::string::npos);

  auto esp =
      exec::run_checked({"mdir", "-b", "-i", raw.string() + "@@" + std::to_string(2 * k_mib), "::/EFI/BOOT"},
                        {.env = {{"MTOOLS_SKIP_CHECK", "1"}}});
  REQUIRE(esp);
  CHECK(esp->out.find("BOOTX64.EFI") != std::string::npos);

  auto mbr = cfs::read_file(raw).value().substr(0, 512);
  CHECK(static_cast<unsigned char>(mbr[510]) == 0x55);
  CHECK(static_cast<unsigned char>(mbr[511]) == 0xAA);
  CHECK(le(mbr, 0x5c, 8) == 2048);
  CHECK(static_cast<unsigned char>(mbr[0x1c2]) == 0xEE);  // the protective MBR entry survived
  CHECK_FALSE(stdfs::exists(tmp.path() / "out" / "tiny.qcow2.partial"));
  CHECK(std::distance(stdfs::directory_iterator(tmp.path() / "out"), stdfs::directory_iterator()) == 1);
}
