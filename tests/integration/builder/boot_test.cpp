// A short boot check of the shared image under QEMU TCG: it must get as far as cloud-init
// (its "Cloud-init v. ..." banner on the serial console) within 240 s. The image is booted
// through a throwaway qcow2 overlay so the shared output stays pristine.
#include <catch2/catch.hpp>

#include "builder_fixture.hpp"
#include "image/qemu_img.hpp"
#include "support/skip.hpp"

using namespace builder_it;

TEST_CASE("builder: the image boots under TCG as far as cloud-init", "[builder][boot]") {
  if (!exec::find_program("qemu-system-x86_64")) {
    BINDER_SKIP_MISSING_TOOL("qemu-system-x86_64");
  }
  Built b = shared_image();
  auto tmp = fs::TempDir::create("boot-check");
  REQUIRE(tmp);
  stdfs::path overlay = tmp->path() / "boot.qcow2";
  stdfs::path log = tmp->path() / "serial.log";
  REQUIRE(binder::image::create_overlay(overlay, b.image));
  // QEMU in the background; poll the serial log for the banner, then stop it.
  std::string script = fmt::format(
      "qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -display none -monitor none -no-reboot "
      "-serial file:{log} -drive file={img},format=qcow2,if=virtio "
      "-nic user,model=virtio-net-pci & pid=$!\n"
      "for i in $(seq 240); do\n"
      "  if grep -q -E 'Cloud-init v\\.|cloud-init\\[' {log} 2>/dev/null; then kill $pid; wait $pid; "
      "echo reached-after=$i; exit 0; fi\n"
      "  kill -0 $pid 2>/dev/null || {{ echo qemu-exited; exit 1; }}\n"
      "  sleep 1\n"
      "done\n"
      "kill $pid; wait $pid; echo timeout; exit 1\n",
      fmt::arg("log", log.string()), fmt::arg("img", overlay.string()));
  exec::Options o;
  o.timeout = std::chrono::seconds(300);
  auto r = exec::run({"/bin/sh", "-c", script}, o);
  REQUIRE(r);
  auto serial = fs::read_file_if_exists(log);
  std::string text = serial && *serial ? **serial : "";
  INFO("serial log tail:\n" << (text.size() > 3000 ? text.substr(text.size() - 3000) : text));
  INFO(r->out);
  CHECK(r->exit_code == 0);
  WARN("boot check: " << r->out);
}
