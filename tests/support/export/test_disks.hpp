// Test helpers for the export tests: small real disks made with qemu-img and qemu-io (a base
// qcow2 with patterned data and an overlay on it, so exports flatten a real backing chain), and
// file comparison. Test code: failures REQUIRE inside.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/hash.hpp"
#include "image/qemu_img.hpp"

namespace binder::exporter::testing {

inline constexpr std::uint64_t k_mib = 1024ull * 1024;
inline constexpr std::uint64_t k_gib = 1024 * k_mib;

inline void qemu_io(const std::filesystem::path& img, const std::string& cmd) {
  auto r = common::exec::run_checked({"qemu-io", "-f", "qcow2", "-c", cmd, img.string()});
  INFO((r ? "" : r.error().to_string()));
  REQUIRE(r);
}

// dir/base.qcow2 (`size` bytes, patterned data at 0, size/10 and near the end) and
// dir/top.qcow2 (an overlay changing some of it). Returns the overlay.
inline std::filesystem::path make_test_disk(const std::filesystem::path& dir, std::uint64_t size = k_gib) {
  auto base = dir / "base.qcow2", top = dir / "top.qcow2";
  auto c = common::exec::run_checked(
      {"qemu-img", "create", "-q", "-f", "qcow2", base.string(), std::to_string(size)});
  REQUIRE(c);
  auto at = [&](std::uint64_t fraction) { return std::to_string(size / fraction / k_mib * k_mib); };
  qemu_io(base, "write -P 0xab 0 4M");
  qemu_io(base, "write -P 0x11 " + at(10) + " 8M");
  qemu_io(base, "write -P 0x5a " + std::to_string(size - 2 * k_mib) + " 1M");
  REQUIRE(image::create_overlay(top, base));
  qemu_io(top, "write -P 0xcd 1M 2M");
  qemu_io(top, "write -P 0x77 " + at(5) + " 3M");
  return top;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// True if both files have equal bytes (compares via sha256 to keep memory small).
inline bool same_bytes(const std::filesystem::path& a, const std::filesystem::path& b) {
  auto ha = common::hash::sha256_file(a);
  auto hb = common::hash::sha256_file(b);
  REQUIRE(ha);
  REQUIRE(hb);
  return *ha == *hb;
}

// `qemu-img compare` of two images (contents equal, formats may differ).
inline bool same_contents(const std::filesystem::path& a, const std::string& fa,
                          const std::filesystem::path& b, const std::string& fb) {
  auto r = common::exec::run({"qemu-img", "compare", "-q", "-f", fa, "-F", fb, a.string(), b.string()});
  REQUIRE(r);
  return r->exit_code == 0;
}

}  // namespace binder::exporter::testing
