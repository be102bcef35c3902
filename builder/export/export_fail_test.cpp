// Export failures: rule violations stop the export before anything is written, and an output
// that fails mid-export publishes nothing (no half files, no staging left, old SHA256SUMS kept).
#include <cstdlib>

#include <catch2/catch.hpp>

#include "export/export.hpp"
#include "support/export/test_disks.hpp"

using namespace binder::exporter;
using namespace binder::exporter::testing;
namespace fs = binder::common::fs;

namespace {

std::size_t count_entries(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("export: an Azure size violation is rejected before anything is written") {
  auto dir = fs::TempDir::create("export-fail");
  REQUIRE(dir);
  auto top = make_test_disk(dir->path(), k_gib + 512 * 1024);
  auto r = export_outputs(top, {{"qcow2", "zstd", ""}, {"vhd", "", ""}}, dir->path() / "out", "x");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == binder::common::Errc::invalid_config);
  CHECK(r.error().to_string() ==
        "output 2 (vhd): azure: a fixed VHD's virtual size must be a "
        "whole MiB (disk is 1074266112 bytes; 1025 MiB would do)");
  CHECK_FALSE(std::filesystem::exists(dir->path() / "out"));
}

TEST_CASE("export: a GCP size violation is rejected before anything is written") {
  auto dir = fs::TempDir::create("export-fail");
  REQUIRE(dir);
  auto top = make_test_disk(dir->path(), 1536 * k_mib);
  auto r = export_outputs(top, {{"gcp-tar", "", ""}}, dir->path() / "out", "x");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("gcp: disk.raw must be a whole GiB") == 0);
  CHECK_FALSE(std::filesystem::exists(dir->path() / "out"));
}

TEST_CASE("export: a failing output publishes nothing and keeps the previous set") {
  auto dir = fs::TempDir::create("export-fail");
  REQUIRE(dir);
  auto top = make_test_disk(dir->path(), 64 * k_mib);
  auto out = dir->path() / "out";
  REQUIRE(fs::write_file_atomic(out / "x.qcow2", "old"));
  REQUIRE(fs::write_file_atomic(out / "SHA256SUMS", "old sums\n"));
  // A PATH holding qemu-img but no xz: the qcow2 succeeds, the raw.xz fails.
  auto bin = dir->path() / "bin";
  REQUIRE(fs::make_directories(bin));
  std::filesystem::create_symlink(*binder::common::exec::find_program("qemu-img"), bin / "qemu-img");
  std::string old_path = std::getenv("PATH");
  ::setenv("PATH", bin.c_str(), 1);
  auto r = export_outputs(top, {{"qcow2", "", ""}, {"raw", "xz", ""}}, out, "x");
  ::setenv("PATH", old_path.c_str(), 1);
  REQUIRE_FALSE(r);
  CHECK(r.error().to_string().find("exporting 'x.raw.xz'") == 0);
  CHECK(slurp(out / "x.qcow2") == "old");
  CHECK(slurp(out / "SHA256SUMS") == "old sums\n");
  CHECK(count_entries(out) == 2);  // the staging directory is gone
}

TEST_CASE("export: outputs replace an earlier set, SHA256SUMS describes the new one") {
  auto dir = fs::TempDir::create("export-fail");
  REQUIRE(dir);
  auto top = make_test_disk(dir->path(), 64 * k_mib);
  auto out = dir->path() / "out";
  REQUIRE(fs::write_file_atomic(out / "x.qcow2", "old"));
  REQUIRE(fs::write_file_atomic(out / "SHA256SUMS", "old sums\n"));
  std::vector<std::string> reported;
  ExportOptions o;
  o.on_output = [&](const ExportedFile& f) { reported.push_back(f.path.filename().string()); };
  auto r = export_outputs(top, {{"qcow2", "zstd", ""}}, out, "x", o);
  INFO((r ? "" : r.error().to_string()));
  REQUIRE(r);
  CHECK(reported == std::vector<std::string>{"x.qcow2"});
  CHECK(slurp(out / "SHA256SUMS") == (*r)[0].sha256 + "  x.qcow2\n");
  CHECK(same_contents(top, "qcow2", out / "x.qcow2", "qcow2"));
}
