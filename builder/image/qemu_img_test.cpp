#include "image/qemu_img.hpp"

#include <catch2/catch.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"

using namespace binder;

TEST_CASE("qemu_img: overlay has a relative backing name and explicit format", "[qemu_img]") {
  auto dir = common::fs::TempDir::create("qimg-test");
  REQUIRE(dir);
  auto base = dir->path() / "base.qcow2";
  REQUIRE(common::exec::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", base.string(), "64M"}));
  auto top = dir->path() / "top.qcow2";
  REQUIRE(image::create_overlay(top, base, 128ull << 20));
  auto info = image::info(top);
  REQUIRE(info);
  CHECK(info->format == "qcow2");
  CHECK(info->virtual_size == (128ull << 20));
  CHECK(info->backing_filename == "base.qcow2");
  CHECK(info->backing_format == "qcow2");
  REQUIRE(image::check(top, "qcow2"));

  auto flat = dir->path() / "flat.qcow2";
  image::ConvertOptions o;
  o.compression = image::Compression::zstd;
  REQUIRE(image::convert(top, flat, o));
  auto finfo = image::info(flat);
  REQUIRE(finfo);
  CHECK_FALSE(finfo->backing_filename);
}

TEST_CASE("qemu_img: a corrupt image is rejected with its name", "[qemu_img]") {
  auto dir = common::fs::TempDir::create("qimg-test");
  REQUIRE(dir);
  auto bad = dir->path() / "bad.qcow2";
  REQUIRE(common::fs::write_file_atomic(bad, std::string("QFI\xfb") + std::string(100, 'x')));
  auto info = image::info(bad, "qcow2");
  REQUIRE_FALSE(info);
  CHECK(info.error().message.find("bad.qcow2") != std::string::npos);
  auto missing = image::info(dir->path() / "missing.qcow2");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == common::Errc::not_found);
}
