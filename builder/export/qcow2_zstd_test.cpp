// The exporter's own zstd qcow2 writer on a real backing chain: contents equal to the chain
// (qemu-img compare), a clean qemu-img check, the same bytes whatever the thread count, and the
// reuse cache changing only the speed (also when the cached output was damaged).
#include "export/qcow2_zstd.hpp"

#include <fstream>
#include <random>

#include <catch2/catch.hpp>

#include "export/export.hpp"
#include "export/formats.hpp"
#include "support/export/test_disks.hpp"

using namespace binder::exporter;
using namespace binder::exporter::testing;
namespace fs = binder::common::fs;
using Path = std::filesystem::path;

namespace {

// 64 MiB + 3 sectors (a partial last cluster) over a base: patterns, incompressible data (stored
// whole), a range written in both layers, data in the last partial cluster.
Path make_disk(const Path& dir) {
  const std::uint64_t size = 64 * k_mib + 3 * 512;
  auto base = dir / "base.qcow2", top = dir / "top.qcow2";
  REQUIRE(binder::common::exec::run_checked(
      {"qemu-img", "create", "-q", "-f", "qcow2", base.string(), std::to_string(size)}));
  std::string noise(1 << 20, '\0');
  std::mt19937_64 rng(42);
  for (auto& c : noise) {
    c = static_cast<char>(rng());
  }
  Path noise_file = dir / "noise.bin";
  std::ofstream(noise_file, std::ios::binary) << noise;
  qemu_io(base, "write -P 0xab 0 4M");
  qemu_io(base, "write -s " + noise_file.string() + " 8M 1M");
  qemu_io(base, "write -P 0x11 10000384 70000");  // unaligned: partial clusters
  qemu_io(base, "write -P 0x5a " + std::to_string(size - 1024) + " 1024");
  REQUIRE(binder::image::create_overlay(top, base));
  qemu_io(top, "write -P 0xcd 1M 2M");
  qemu_io(top, "write -P 0x77 9000000 100000");
  return top;
}

Path export_native(const Path& top, const Path& out, unsigned threads, std::optional<Path> cache,
                   detail::Qcow2ZstdStats* stats = nullptr) {
  detail::Qcow2ZstdOptions o;
  o.threads = threads;
  o.cache = cache;
  auto r = detail::write_qcow2_zstd(top, 64 * k_mib + 3 * 512, out, o);
  INFO((r ? "" : r.error().to_string()));
  REQUIRE(r);
  if (stats) {
    *stats = *r;
  }
  return out;
}

}  // namespace

TEST_CASE("qcow2 zstd: the chain's exact contents, clean check, zstd type, same bytes for 1 and 3 threads") {
  auto dir = fs::TempDir::create("qcow2-zstd-test");
  REQUIRE(dir);
  Path top = make_disk(dir->path());
  detail::Qcow2ZstdStats s1;
  Path one = export_native(top, dir->path() / "one.qcow2", 1, std::nullopt, &s1);
  Path three = export_native(top, dir->path() / "three.qcow2", 3, std::nullopt);
  CHECK(same_bytes(one, three));
  CHECK(same_contents(top, "qcow2", one, "qcow2"));
  CHECK(binder::image::check(one, "qcow2"));
  auto info = binder::image::info(one, "qcow2");
  REQUIRE(info);
  CHECK(info->virtual_size == 64 * k_mib + 3 * 512);
  CHECK_FALSE(info->backing_filename);
  CHECK(info->json.find("\"compression-type\": \"zstd\"") != std::string::npos);
  // qemu-img check -r: nothing leaked, nothing to repair.
  auto c = binder::common::exec::run({"qemu-img", "check", "--output=json", one.string()});
  REQUIRE(c);
  CHECK(c->exit_code == 0);
  CHECK(c->out.find("\"leaks\"") == std::string::npos);
  CHECK(c->out.find("\"corruptions\"") == std::string::npos);
  // The noise clusters stored whole (16, less the 2 the top layer's 0x77 write makes compressible),
  // the rest compressed.
  CHECK(s1.uncompressed == 14);
  CHECK(s1.compressed == s1.clusters - 14);
  CHECK(s1.reused == 0);
  // Much smaller than the data: patterns compress.
  CHECK(std::filesystem::file_size(one) < 2 * k_mib);
}

TEST_CASE("qcow2 zstd: the reuse cache copies unchanged clusters and never changes the bytes") {
  auto dir = fs::TempDir::create("qcow2-zstd-test");
  REQUIRE(dir);
  Path top = make_disk(dir->path());
  Path cache = dir->path() / "cache";
  detail::Qcow2ZstdStats first, second, third;
  Path a = export_native(top, dir->path() / "a.qcow2", 2, cache, &first);
  CHECK(first.reused == 0);
  REQUIRE(std::filesystem::exists(Path(a.string() + ".index")));
  REQUIRE(detail::remember_qcow2_zstd(a, cache));
  CHECK(std::filesystem::exists(cache / "last.qcow2"));
  CHECK(std::filesystem::exists(cache / "last.index"));

  // Change a few clusters (a new overlay, as a warm rebuild's final layer): the rest is reused.
  Path top2 = dir->path() / "top2.qcow2";
  REQUIRE(binder::image::create_overlay(top2, top));
  qemu_io(top2, "write -P 0xee 20M 128K");
  Path b = export_native(top2, dir->path() / "b.qcow2", 2, cache, &second);
  Path b_plain = export_native(top2, dir->path() / "b-plain.qcow2", 2, std::nullopt);
  CHECK(same_bytes(b, b_plain));
  CHECK(same_contents(top2, "qcow2", b, "qcow2"));
  CHECK(second.compressed <= 2);
  CHECK(second.reused + second.compressed + second.uncompressed == second.clusters);
  CHECK(second.reused >= second.clusters - 2);
  CHECK(second.uncompressed == 0);

  // A damaged cached output: its digests fail, those clusters are compressed again, same bytes.
  {
    std::fstream f(cache / "last.qcow2", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3 * 65536 + 100);
    f.write("garbage!garbage!", 16);
  }
  Path c = export_native(top2, dir->path() / "c.qcow2", 2, cache, &third);
  CHECK(same_bytes(c, b_plain));
  CHECK(third.compressed >= 1);
  // A cache directory with a broken index is ignored.
  std::ofstream(cache / "last.index") << "not an index";
  Path d = export_native(top2, dir->path() / "d.qcow2", 2, cache, &third);
  CHECK(third.reused == 0);
  CHECK(same_bytes(d, b_plain));
}

TEST_CASE("qcow2 zstd: a chain with compressed clusters is refused here and exported by qemu-img") {
  auto dir = fs::TempDir::create("qcow2-zstd-test");
  REQUIRE(dir);
  Path top = make_disk(dir->path());
  Path compressed = dir->path() / "compressed.qcow2";
  REQUIRE(binder::common::exec::run_checked(
      {"qemu-img", "convert", "-c", "-f", "qcow2", "-O", "qcow2", top.string(), compressed.string()}));
  detail::Qcow2ZstdOptions o;
  auto r = detail::write_qcow2_zstd(compressed, 64 * k_mib + 3 * 512, dir->path() / "x.qcow2", o);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == binder::common::Errc::precondition);
  // The export falls back to qemu-img and still writes a verified zstd qcow2.
  ExportOptions eo;
  eo.cache_dir = dir->path() / "cache";
  auto e = export_outputs(compressed, {{"qcow2", "zstd", ""}}, dir->path() / "out", "img", eo);
  INFO((e ? "" : e.error().to_string()));
  REQUIRE(e);
  CHECK(same_contents(top, "qcow2", dir->path() / "out" / "img.qcow2", "qcow2"));
  CHECK_FALSE(std::filesystem::exists(dir->path() / "cache" / "img.qcow2" / "last.qcow2"));
}

TEST_CASE("qcow2 zstd: export_outputs with a cache keeps the output for the next export") {
  auto dir = fs::TempDir::create("qcow2-zstd-test");
  REQUIRE(dir);
  Path top = make_disk(dir->path());
  ExportOptions eo;
  eo.source_date_epoch = 1700000000;
  eo.cache_dir = dir->path() / "cache";
  auto e = export_outputs(top, {{"qcow2", "zstd", ""}}, dir->path() / "out", "img", eo);
  INFO((e ? "" : e.error().to_string()));
  REQUIRE(e);
  CHECK(same_bytes(dir->path() / "out" / "img.qcow2", dir->path() / "cache" / "img.qcow2" / "last.qcow2"));
  // Without the cache and with qemu-img: the same contents (not the same bytes).
  eo.cache_dir.reset();
  eo.native_qcow2 = false;
  auto q = export_outputs(top, {{"qcow2", "zstd", ""}}, dir->path() / "qemu", "img", eo);
  REQUIRE(q);
  CHECK(
      same_contents(dir->path() / "qemu" / "img.qcow2", "qcow2", dir->path() / "out" / "img.qcow2", "qcow2"));
  // Only the output and SHA256SUMS were published (no index left behind).
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& x : std::filesystem::directory_iterator(dir->path() / "out")) {
    ++entries;
  }
  CHECK(entries == 2);
}
