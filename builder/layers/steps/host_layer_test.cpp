// write_layer_on_host on a real GPT disk (qcow2, root ext4 in partition 2, as the base layer of
// a rootfs build lays it out), checked with qemu-img and debugfs; tree_hygiene on bad trees.
#include "layers/steps/host_layer.hpp"

#include <fstream>

#include <catch2/catch.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "image/qemu_img.hpp"
#include "layers/steps/hygiene.hpp"
#include "layers/steps/hygiene_checks.hpp"

using namespace binder;
namespace stdfs = std::filesystem;
namespace exec = common::exec;

namespace {

constexpr std::uint64_t k_root_offset = 34 * 1024 * 1024;  // partition 2 starts at 34 MiB

void put(const stdfs::path& p, const std::string& data) {
  stdfs::create_directories(p.parent_path());
  REQUIRE(common::fs::write_file_atomic(p, data));
}

// A 256 MiB GPT disk: partition 1 (32 MiB, vfat-ish, empty), partition 2 ext4 "root".
stdfs::path make_base(const stdfs::path& dir) {
  stdfs::path src = dir / "src";
  put(src / "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
  put(src / "var/lib/dpkg/status", "Package: bash\nStatus: install ok installed\nVersion: 5.2\n\n");
  put(src / "etc/motd", "old motd\n");
  stdfs::path raw = dir / "base.raw";
  { std::ofstream f(raw, std::ios::binary); }
  stdfs::resize_file(raw, 256u << 20);
  REQUIRE(
      exec::run_checked({"sfdisk", "-q", raw.string()},
                        exec::Options{.stdin_data = "label: gpt\nstart=2048, size=65536\nstart=69632\n"}));
  REQUIRE(
      exec::run_checked({"mke2fs", "-q", "-F", "-t", "ext4", "-L", "root", "-E",
                         fmt::format("offset={}", k_root_offset), "-d", src.string(), raw.string(), "200M"}));
  stdfs::path base = dir / "base.qcow2";
  REQUIRE(image::convert(raw, base, image::ConvertOptions{.input_format = "raw"}));
  stdfs::remove(raw);
  return base;
}

std::string debugfs_cat(const stdfs::path& qcow2, const stdfs::path& dir, const std::string& path) {
  stdfs::path raw = dir / "check.raw";
  REQUIRE(image::convert(qcow2, raw, image::ConvertOptions{.output_format = "raw"}));
  auto r = exec::run_checked(
      {"debugfs", "-R", "cat " + path, fmt::format("{}?offset={}", raw.string(), k_root_offset)});
  stdfs::remove(raw);
  REQUIRE(r);
  return r->out;
}

}  // namespace

TEST_CASE("host layer: files land in the root filesystem of a new overlay, nothing else changes",
          "[host-layer]") {
  REQUIRE(layers::steps::host_layers_available());  // ci/deps installs qemu-utils and fdisk
  auto dir = common::fs::TempDir::create("host-layer");
  REQUIRE(dir);
  stdfs::path base = make_base(dir->path());
  stdfs::create_directories(dir->path() / "work");
  layers::BuildEnv env{{}, dir->path() / "work"};

  image::TarBuilder tree;
  tree.add_file("etc/motd", "new motd\n");
  tree.add_file("etc/binder-image/build.json", "{}\n");
  tree.add_symlink("etc/systemd/system/multi-user.target.wants/x.service", "/etc/systemd/system/x.service");
  stdfs::path out = dir->path() / "layer.qcow2";
  auto r = layers::steps::write_layer_on_host(base, out, tree, env, 1700000000);
  INFO((r ? std::string() : r.error().to_string()));
  REQUIRE(r);
  CHECK_THAT(r->root, Catch::Contains("partition 2 (label 'root')"));
  CHECK(r->dpkg_status.find("Package: bash") != std::string::npos);
  CHECK(r->os_release.find("ID=debian") != std::string::npos);
  CHECK(r->ranges > 0);
  CHECK(r->bytes < (4u << 20));  // metadata + three small files, not a copy of the filesystem

  auto info = image::info(out, "qcow2");
  REQUIRE(info);
  REQUIRE(info->backing_filename);
  CHECK(*info->backing_filename == "base.qcow2");  // relative, as every layer
  CHECK(info->backing_format.value_or("") == "qcow2");
  CHECK(image::check(out, "qcow2"));
  CHECK(stdfs::file_size(out) < (8u << 20));
  CHECK(debugfs_cat(out, dir->path(), "/etc/motd") == "new motd\n");
  CHECK(debugfs_cat(base, dir->path(), "/etc/motd") == "old motd\n");  // parent untouched
  CHECK(stdfs::is_empty(dir->path() / "work"));                        // scratch removed
}

TEST_CASE("host layer: an Ubuntu-style disk: root 'cloudimg-rootfs' in partition 1, /boot after it",
          "[host-layer]") {
  auto dir = common::fs::TempDir::create("host-layer-ubuntu");
  REQUIRE(dir);
  stdfs::path root_src = dir->path() / "root", boot_src = dir->path() / "boot";
  put(root_src / "etc/os-release", "ID=ubuntu\nVERSION_ID=\"24.04\"\n");
  put(root_src / "etc/motd", "ubuntu\n");
  put(boot_src / "grub/grub.cfg", "# boot partition\n");
  stdfs::path raw = dir->path() / "disk.raw";
  { std::ofstream f(raw, std::ios::binary); }
  stdfs::resize_file(raw, 256u << 20);
  // Partition 1 (root) starts after partition 16 (/boot), as in Ubuntu's cloud images.
  REQUIRE(exec::run_checked({"sfdisk", "-q", raw.string()},
                            exec::Options{.stdin_data = "label: gpt\nstart=133120, size=380928\n"
                                                        "start=2048, size=131072\n"}));
  std::uint64_t root_off = 133120ull * 512, boot_off = 2048ull * 512;
  REQUIRE(
      exec::run_checked({"mke2fs", "-q", "-F", "-t", "ext4", "-L", "cloudimg-rootfs", "-E",
                         fmt::format("offset={}", root_off), "-d", root_src.string(), raw.string(), "180M"}));
  REQUIRE(
      exec::run_checked({"mke2fs", "-q", "-F", "-t", "ext4", "-L", "BOOT", "-E",
                         fmt::format("offset={}", boot_off), "-d", boot_src.string(), raw.string(), "60M"}));
  stdfs::path base = dir->path() / "base.qcow2";
  REQUIRE(image::convert(raw, base, image::ConvertOptions{.input_format = "raw"}));
  stdfs::create_directories(dir->path() / "work");
  layers::BuildEnv env{{}, dir->path() / "work"};
  image::TarBuilder tree;
  tree.add_file("etc/motd", "binder\n");
  stdfs::path out = dir->path() / "layer.qcow2";
  auto r = layers::steps::write_layer_on_host(base, out, tree, env, 1700000000);
  INFO((r ? std::string() : r.error().to_string()));
  REQUIRE(r);
  CHECK_THAT(r->root, Catch::Contains("partition 1 (label 'cloudimg-rootfs')"));
  CHECK(r->os_release.find("ID=ubuntu") != std::string::npos);
  stdfs::path check = dir->path() / "check.raw";
  REQUIRE(image::convert(out, check, image::ConvertOptions{.output_format = "raw"}));
  auto motd = exec::run_checked(
      {"debugfs", "-R", "cat /etc/motd", fmt::format("{}?offset={}", check.string(), root_off)});
  REQUIRE(motd);
  CHECK(motd->out == "binder\n");
  auto cfg = exec::run_checked(
      {"debugfs", "-R", "cat /grub/grub.cfg", fmt::format("{}?offset={}", check.string(), boot_off)});
  REQUIRE(cfg);
  CHECK(cfg->out == "# boot partition\n");  // the other filesystem is untouched
}

TEST_CASE("host layer: a disk without an ext root filesystem is a precondition error (fallback)",
          "[host-layer]") {
  auto dir = common::fs::TempDir::create("host-layer-none");
  REQUIRE(dir);
  stdfs::path raw = dir->path() / "blank.raw";
  { std::ofstream f(raw, std::ios::binary); }
  stdfs::resize_file(raw, 64u << 20);
  stdfs::path base = dir->path() / "blank.qcow2";
  REQUIRE(image::convert(raw, base, image::ConvertOptions{.input_format = "raw"}));
  stdfs::create_directories(dir->path() / "work");
  layers::BuildEnv env{{}, dir->path() / "work"};
  image::TarBuilder tree;
  tree.add_file("etc/motd", "x\n");
  auto r = layers::steps::write_layer_on_host(base, dir->path() / "layer.qcow2", tree, env, 1700000000);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == common::Errc::precondition);
}

TEST_CASE("hygiene: a file tree that would dirty a clean image is named", "[hygiene]") {
  using layers::steps::tree_hygiene;
  CHECK(tree_hygiene({{"etc/motd", "hi"},
                      {"etc/machine-id", ""},
                      {"etc/ssh/sshd_config", ""},
                      {"var/lib/rancher/k3s/server/manifests/traefik.yaml.skip", ""},
                      {"var/lib/rancher/k3s/server/static/charts/mybinder-1.0.0.tgz", "x"}})
            .empty());
  CHECK(tree_hygiene({{"var/lib/rancher/k3s/server/static/other", "x"}}) ==
        std::vector<std::string>{"/var/lib/rancher/k3s/server/static/other"});
  auto bad = tree_hygiene({{"etc/machine-id", "0123456789abcdef\n"},
                           {"etc/ssh/ssh_host_ed25519_key", "k"},
                           {"var/lib/rancher/k3s/server/token", "t"},
                           {"var/lib/cloud/instance/boot-finished", ""},
                           {"home/jovyan/.bash_history", "ls"},
                           {"etc/systemd/system/multi-user.target.wants/k3s.service", ""}});
  CHECK(bad == std::vector<std::string>{"/etc/machine-id", "/etc/ssh/ssh_host_ed25519_key",
                                        "/var/lib/rancher/k3s/server/token",
                                        "/var/lib/cloud/instance/boot-finished", "/home/jovyan/.bash_history",
                                        "/etc/systemd/system/multi-user.target.wants/k3s.service"});
}

TEST_CASE("hygiene on the host: a dirty root filesystem comes out clean and consistent", "[hygiene]") {
  auto dir = common::fs::TempDir::create("host-hygiene");
  REQUIRE(dir);
  stdfs::path src = dir->path() / "src";
  put(src / "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  put(src / "etc/ssh/ssh_host_ed25519_key", "secret\n");
  put(src / "etc/ssh/sshd_config", "keep\n");
  put(src / "var/lib/cloud/instance/boot-finished", "x\n");
  put(src / "var/log/syslog", std::string(5000, 'l'));
  put(src / "var/log/syslog.1", "old\n");
  put(src / "var/log/apt/history.log.gz", "gz\n");
  put(src / "var/log/journal/abc/system.journal", "j\n");
  put(src / "var/lib/apt/lists/deb.debian.org_Packages", "p\n");
  put(src / "var/lib/rancher/k3s/server/token", "t\n");
  put(src / "var/lib/rancher/k3s/server/manifests/traefik.yaml.skip", "");
  put(src / "root/.bash_history", "ls\n");
  put(src / "tmp/junk", "j\n");
  put(src / "usr/lib/systemd/systemd-resolved", "");
  put(src / "etc/resolv.conf", "nameserver 10.0.2.3\n");
  stdfs::path raw = dir->path() / "fs.raw";
  REQUIRE(exec::run_checked({"mke2fs", "-q", "-F", "-t", "ext4", "-d", src.string(), raw.string(), "64M"}));
  auto fs = image::Ext4Fs::open(raw, 0, true);
  REQUIRE(fs);
  fs->set_time(1700000000);
  auto r = layers::steps::host_hygiene(*fs);
  INFO((r ? std::string() : r.error().to_string()));
  REQUIRE(r);
  REQUIRE(fs->close());
  auto fsck = exec::run({"e2fsck", "-fn", raw.string()});
  REQUIRE(fsck);
  CHECK(fsck->exit_code == 0);
  auto ro = image::Ext4Fs::open(raw, 0, false);
  REQUIRE(ro);
  auto checks = layers::steps::image_checks(*ro);
  REQUIRE(checks);
  for (const auto& c : *checks) {
    INFO(c.name << ": " << c.detail);
    CHECK((c.ok || c.name.starts_with("binder-firstboot")));
  }
  CHECK(ro->read_file("/etc/machine-id").value() == "");
  CHECK(ro->read_file("/etc/ssh/sshd_config").value() == "keep\n");
  CHECK(ro->read_file("/var/log/syslog").value() == "");
  CHECK_FALSE(ro->stat("/var/log/syslog.1").value().has_value());
  CHECK_FALSE(ro->stat("/var/log/apt/history.log.gz").value().has_value());
  CHECK(ro->list("/var/log/journal").value().empty());
  CHECK(ro->list("/var/lib/apt/lists").value() == std::vector<std::string>{"partial"});
  CHECK(ro->list("/tmp").value().empty());
  CHECK(ro->stat("/var/lib/rancher/k3s/server/manifests/traefik.yaml.skip").value().has_value());
  auto rc = ro->stat("/etc/resolv.conf").value();
  REQUIRE(rc.has_value());
  CHECK(rc->link_target == "../run/systemd/resolve/stub-resolv.conf");
}
