// fuzz_make_seeds OUTDIR: seeds that are binary or stateful, written by the project's own
// writers (so they track the formats the code really produces): OUTDIR/{tar,iso,vhd,journal}/.
// Text seeds (profiles, member files, cloud-init JSON, SHA256SUMS) come from the fixtures and
// tests/fuzz/seeds/ (ci/fuzz copies them).
#include <cstdio>
#include <fstream>

#include "charts/tgz.hpp"
#include "common/fs.hpp"
#include "export/tar_io.hpp"
#include "firstboot/journal.hpp"
#include "image/archive.hpp"
#include "seed/seed.hpp"
#include "tests/support/firstboot/test_seams.hpp"

namespace {

namespace stdfs = std::filesystem;

[[noreturn]] void die(const std::string& what, const binder::common::Error& e) {
  std::fprintf(stderr, "fuzz_make_seeds: %s: %s\n", what.c_str(), e.to_string().c_str());
  std::exit(1);
}

void put(const stdfs::path& p, std::string_view data) {
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(data.data(), static_cast<std::streamsize>(data.size()));
}

void be(unsigned char* at, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    at[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
}

// A fixed VHD of `size` zero bytes plus its footer (cookie, fixed type, sizes, checksum).
std::string vhd(std::uint64_t size, std::uint32_t type) {
  std::string out(size + 512, '\0');
  auto* f = reinterpret_cast<unsigned char*>(out.data() + size);
  std::copy_n("conectix", 8, f);
  be(f + 8, 2, 4);
  be(f + 12, 0x00010000, 4);
  be(f + 16, ~std::uint64_t{0}, 8);
  std::copy_n("qemu", 4, f + 28);
  std::copy_n("Wi2k", 4, f + 36);
  be(f + 40, size, 8);
  be(f + 48, size, 8);
  be(f + 60, type, 4);
  std::uint32_t sum = 0;
  for (int i = 0; i < 512; ++i) {
    sum += f[i];
  }
  be(f + 64, ~sum, 4);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace binder;
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds OUTDIR\n");
    return 2;
  }
  stdfs::path out = argv[1];
  for (const char* d : {"tar", "iso", "vhd", "journal"}) {
    stdfs::create_directories(out / d);
  }

  image::TarBuilder tb;
  tb.add_dir("etc", 0755);
  tb.add_file("etc/hostname", "binder\n", 0644);
  tb.add_symlink("etc/localtime", "/usr/share/zoneinfo/UTC");
  tb.add_file("etc/long/" + std::string(120, 'n'), "pax path\n", 0600, 1000, 1000);
  if (auto r = tb.write(out / "tar/layer.tar", 1'700'000'000); !r)
    die("layer.tar", r.error());

  auto chart = charts::write_tgz({{"chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n", 0644},
                                  {"chart/values.yaml", "a: 1\n", 0644}},
                                 1'700'000'000);
  if (!chart)
    die("chart.tgz", chart.error());
  put(out / "tar/chart.tgz", *chart);

  put(out / "disk.raw", std::string(4096, '\1'));
  for (auto [name, format, gzip] : {std::tuple{"gnu.tar.gz", exporter::tar::Format::oldgnu, true},
                                    std::tuple{"ustar.tar", exporter::tar::Format::ustar, false}}) {
    auto r = exporter::tar::write(out / "tar" / name, {{"disk.raw", out / "disk.raw"}},
                                  {format, gzip, 1'700'000'000});
    if (!r)
      die(name, r.error());
  }
  stdfs::remove(out / "disk.raw");

  seed::SeedContent sc{"#cloud-config\nbinder_member:\n  name: x\n", "instance-id: i-1\n",
                       std::string("network:\n  version: 2\n")};
  if (auto r = seed::write_seed_iso(sc, out / "iso/seed.iso"); !r)
    die("seed.iso", r.error());

  put(out / "vhd/fixed.vhd", vhd(4096, 2));
  put(out / "vhd/dynamic.vhd", vhd(1024, 3));

  firstboot::testing::FakeClock clock;
  auto j = firstboot::Journal::open(out / "journal/journal", clock);
  if (!j)
    die("journal", j.error());
  (void)j->append("host:hostname", "ab12", firstboot::JournalEvent::begin);
  (void)j->append("host:hostname", "ab12", firstboot::JournalEvent::done, "changed");
  (void)j->put("k3s:token", "token", "s3cr3t");
  (void)j->append("k3s:install", "cd34", firstboot::JournalEvent::failed, "exit 1: \"quoted\"\n");
  return 0;
}
