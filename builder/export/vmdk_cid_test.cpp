// pin_vmdk_cid on real qemu-made streamOptimized VMDKs, including the one-in-16 case where qemu
// printed a CID shorter than 8 hex digits (it uses %x): the descriptor must stay valid.
#include <algorithm>
#include <fstream>

#include <catch2/catch.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "export/formats.hpp"

using namespace binder;
namespace stdfs = std::filesystem;

namespace {

std::string vmdk_slurp(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Rewrites the descriptor's CID line to `cid` (any length), shifting the text like qemu would
// have printed it.
void set_cid_text(const stdfs::path& vmdk, const std::string& cid) {
  std::string data = vmdk_slurp(vmdk);
  std::size_t at = data.find("\nCID=");
  REQUIRE(at != std::string::npos);
  std::size_t eol = data.find('\n', at + 1);
  std::size_t end = data.find('\0', at);
  std::string text = data.substr(at, end - at);
  std::string fixed = "\nCID=" + cid + data.substr(eol, end - eol);
  fixed.resize(std::max(fixed.size(), text.size()), '\0');
  data.replace(at, fixed.size(), fixed);
  std::ofstream(vmdk, std::ios::binary | std::ios::trunc) << data;
}

}  // namespace

TEST_CASE("vmdk: the CID is pinned whatever length qemu printed it with", "[export]") {
  auto dir = common::fs::TempDir::create("vmdk-cid");
  REQUIRE(dir);
  stdfs::path raw = dir->path() / "d.raw";
  {
    std::ofstream f(raw, std::ios::binary);
    f << std::string(1 << 20, 'x');
  }
  for (std::string old : {"1234abcd", "abc1234", "7", "ffffffff"}) {
    INFO("qemu's CID " << old);
    stdfs::path vmdk = dir->path() / "d.vmdk";
    stdfs::remove(vmdk);
    REQUIRE(common::exec::run_checked({"qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o",
                                       "subformat=streamOptimized", raw.string(), vmdk.string()}));
    set_cid_text(vmdk, old);
    REQUIRE(exporter::detail::pin_vmdk_cid(vmdk, "0badcafe"));
    std::string data = vmdk_slurp(vmdk);
    CHECK(data.find("\nCID=0badcafe\nparentCID=ffffffff\n") != std::string::npos);
    auto info = common::exec::run({"qemu-img", "info", "-f", "vmdk", vmdk.string()});
    REQUIRE(info);
    CHECK(info->exit_code == 0);
    auto check = common::exec::run({"qemu-img", "check", "-f", "vmdk", vmdk.string()});
    REQUIRE(check);
    CHECK(check->exit_code == 0);
  }
}
