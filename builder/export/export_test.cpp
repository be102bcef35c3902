// Export on real disks: a qcow2 overlay on a base (a real backing chain) exported to every
// format with SOURCE_DATE_EPOCH (2 jobs, all cores) and, for the reproducibility case, again (1
// job, 1 compression thread); each output is checked independently of the export's own
// verification (qemu-img info/compare, libarchive listings, VHD footer, SHA256SUMS) and the two
// runs are compared byte for byte. CTest runs every case in its own process, so each builds
// the exports it needs: a 64 MiB disk for every format but gcp-tar, and a 1 GiB disk (GCP wants
// a whole GiB) for gcp-tar with the raw it shares. (One 1 GiB disk for all ten formats, exported
// twice, made every case take 80-115 s, most of it xz and gzip over a GiB of zeros.)
#include "export/export.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>

#include <catch2/catch.hpp>

#include "common/hash.hpp"
#include "export/formats.hpp"
#include "export/tar_io.hpp"
#include "export/vhd.hpp"
#include "support/export/test_disks.hpp"

using namespace binder::exporter;
using namespace binder::exporter::testing;
namespace fs = binder::common::fs;
using Path = std::filesystem::path;

namespace {

constexpr std::uint64_t k_size = 64 * k_mib;  // the disk of every format but gcp-tar

const std::vector<OutputSpec> k_formats = {
    {"qcow2", "none", "plain"}, {"qcow2", "zstd", ""}, {"qcow2", "zlib", "zl"},
    {"raw", "none", ""},        {"raw", "xz", ""},     {"raw", "zstd", ""},
    {"vmdk", "", ""},           {"ova", "", ""},       {"vhd", "", ""}};
const std::vector<OutputSpec> k_gcp = {{"raw", "none", ""}, {"gcp-tar", "", ""}};

// One disk exported (a) and, when a case asks (b()), exported again with the same epoch and a
// different schedule: only the reproducibility case pays for the second export.
struct Exports {
  fs::TempDir dir = std::move(*fs::TempDir::create("export-test"));
  std::vector<OutputSpec> specs;
  Path top;
  std::vector<ExportedFile> a;
  std::optional<std::vector<ExportedFile>> second;
  Exports(const std::vector<OutputSpec>& s, std::uint64_t size) : specs(s) {
    top = make_test_disk(dir.path(), size);
    ExportOptions o;
    o.source_date_epoch = 1700000000;
    auto ra = export_outputs(top, specs, dir.path() / "a", "img", o);
    INFO((ra ? "" : ra.error().to_string()));
    REQUIRE(ra);
    a = *ra;
  }
  const std::vector<ExportedFile>& b() {
    if (!second) {
      ExportOptions o;
      o.source_date_epoch = 1700000000;
      o.jobs = 1;  // a different schedule must not change the bytes
      o.compress_threads = 1;
      auto rb = export_outputs(top, specs, dir.path() / "b", "img", o);
      INFO((rb ? "" : rb.error().to_string()));
      REQUIRE(rb);
      second = *rb;
    }
    return *second;
  }
};

Exports& formats() {
  static Exports e(k_formats, k_size);
  return e;
}

Exports& gcp() {
  static Exports e(k_gcp, k_gib);
  return e;
}

std::map<std::string, const ExportedFile*> by_name(const std::vector<ExportedFile>& files) {
  std::map<std::string, const ExportedFile*> m;
  for (const auto& f : files) {
    m[f.path.filename().string()] = &f;
  }
  return m;
}

void check_listed(const Exports& e, const std::vector<std::string>& want) {
  auto m = by_name(e.a);
  REQUIRE(e.a.size() == want.size());
  std::string sums;
  for (const auto& n : want) {
    REQUIRE(m.count(n));
    CHECK(m[n]->sha256 == *binder::common::hash::sha256_file(m[n]->path));
    CHECK(m[n]->size == std::filesystem::file_size(m[n]->path));
  }
  std::map<std::string, std::string> sorted;
  for (const auto& n : want) {
    sorted[n] = m[n]->sha256;
  }
  for (const auto& [n, sha] : sorted) {
    sums += sha + "  " + n + "\n";
  }
  CHECK(slurp(e.dir.path() / "a" / "SHA256SUMS") == sums);
  // Nothing else in out_dir: no staging directory, no temp files left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& x : std::filesystem::directory_iterator(e.dir.path() / "a")) {
    ++entries;
  }
  CHECK(entries == want.size() + 1);
}

}  // namespace

TEST_CASE("export: every format is written, named and listed in SHA256SUMS") {
  check_listed(formats(), {"plain.qcow2", "img.qcow2", "zl.qcow2", "img.raw", "img.raw.xz", "img.raw.zst",
                           "img.vmdk", "img.ova", "img.vhd"});
  check_listed(gcp(), {"img.raw", "img.tar.gz"});
}

TEST_CASE("export: qcow2, raw, vmdk and vhd open in qemu-img with the disk's exact contents") {
  auto& f = formats();
  Path a = f.dir.path() / "a";
  for (auto [name, fmt] : std::vector<std::pair<std::string, std::string>>{{"plain.qcow2", "qcow2"},
                                                                           {"img.qcow2", "qcow2"},
                                                                           {"zl.qcow2", "qcow2"},
                                                                           {"img.raw", "raw"},
                                                                           {"img.vmdk", "vmdk"},
                                                                           {"img.vhd", "vpc"}}) {
    INFO(name);
    auto info = binder::image::info(a / name, fmt);
    REQUIRE(info);
    CHECK(info->virtual_size == k_size);
    CHECK_FALSE(info->backing_filename);
    CHECK(binder::image::check(a / name, fmt));
    CHECK(same_contents(f.top, "qcow2", a / name, fmt));
  }
  CHECK(binder::image::info(a / "img.qcow2")->json.find("\"compression-type\": \"zstd\"") !=
        std::string::npos);
  CHECK(binder::image::info(a / "zl.qcow2")->json.find("\"compression-type\": \"zlib\"") !=
        std::string::npos);
  CHECK(binder::image::info(a / "img.vmdk")->json.find("streamOptimized") != std::string::npos);
  // Compressed qcow2 is much smaller than the uncompressed one.
  CHECK(std::filesystem::file_size(a / "img.qcow2") < std::filesystem::file_size(a / "plain.qcow2"));
}

TEST_CASE("export: raw.xz and raw.zst decompress to the raw disk") {
  auto& f = formats();
  Path a = f.dir.path() / "a";
  for (const char* n : {"img.raw.xz", "img.raw.zst"}) {
    INFO(n);
    auto size = detail::decompressed_size(a / n);
    REQUIRE(size);
    CHECK(*size == k_size);
  }
  auto xz = binder::common::exec::run({"xz", "-t", (a / "img.raw.xz").string()});
  CHECK((xz && xz->exit_code == 0));
  auto zst = binder::common::exec::run({"zstd", "-q", "-t", (a / "img.raw.zst").string()});
  CHECK((zst && zst->exit_code == 0));
}

TEST_CASE("export: the OVA holds .ovf, .vmdk, .mf in order as ustar, manifest matching") {
  auto& f = formats();
  Path ova = f.dir.path() / "a" / "img.ova";
  auto l = tar::read(ova, true, 1 << 20);
  REQUIRE(l);
  REQUIRE(l->members.size() == 3);
  CHECK(l->members[0].name == "img.ovf");
  CHECK(l->members[1].name == "img.vmdk");
  CHECK(l->members[2].name == "img.mf");
  CHECK(l->format_name.find("ustar") != std::string::npos);
  CHECK(l->filters.empty());
  CHECK(l->members[2].data ==
        "SHA256(img.ovf)= " + l->members[0].sha256 + "\nSHA256(img.vmdk)= " + l->members[1].sha256 + "\n");
  for (const auto& m : l->members) {
    CHECK(m.mtime == 1700000000);
    CHECK(m.uid == 0);
  }
  CHECK(l->members[0].data.find("ovf:capacity=\"67108864\"") != std::string::npos);
  // The OVA's disk is the same as the standalone streamOptimized VMDK (same CID pinning).
  CHECK(l->members[1].sha256 == by_name(f.a)["img.vmdk"]->sha256);
  CHECK(detail::verify_ova(ova, "img", k_size));
  // GNU tar agrees on the member order too.
  auto t = binder::common::exec::run({"tar", "-tvf", ova.string()});
  REQUIRE(t);
  CHECK(t->out.find("img.ovf") < t->out.find("img.vmdk"));
}

TEST_CASE("export: the GCP tarball is gzip'd oldgnu tar holding exactly disk.raw") {
  auto& f = gcp();
  Path tgz = f.dir.path() / "a" / "img.tar.gz";
  auto l = tar::read(tgz, true);
  REQUIRE(l);
  REQUIRE(l->members.size() == 1);
  CHECK(l->members[0].name == "disk.raw");
  CHECK(l->members[0].size == k_gib);
  CHECK(l->filters == std::vector<std::string>{"gzip"});
  CHECK(l->magic == std::string("ustar  \0", 8));
  CHECK(l->format_name.find("GNU") != std::string::npos);
  // disk.raw is the raw disk.
  CHECK(l->members[0].sha256 == by_name(f.a)["img.raw"]->sha256);
  // The gzip header carries no timestamp (bytes 4..7 = 0) and no file name (FLG = 0).
  std::string head = slurp(tgz).substr(0, 10);
  CHECK(head.substr(4, 4) == std::string(4, '\0'));
  CHECK(head[3] == 0);
}

TEST_CASE("export: the VHD is fixed, footer valid, virtual size exact, footer pinned") {
  auto& f = formats();
  Path vhd = f.dir.path() / "a" / "img.vhd";
  CHECK(vhd::verify_fixed(vhd, k_size));
  auto footer = vhd::read_footer(vhd);
  REQUIRE(footer);
  CHECK(footer->cookie == "conectix");
  CHECK(footer->disk_type == 2);
  CHECK(footer->current_size == k_size);
  CHECK(footer->timestamp == 1700000000 - vhd::k_vhd_epoch);
  CHECK(std::filesystem::file_size(vhd) == k_size + 512);
}

TEST_CASE("export: two exports with SOURCE_DATE_EPOCH are byte-identical in every format") {
  for (Exports* e : {&gcp(), &formats()}) {
    auto ma = by_name(e->a), mb = by_name(e->b());
    for (const auto& [name, fa] : ma) {
      INFO(name);
      REQUIRE(mb.count(name));
      CHECK(fa->sha256 == mb[name]->sha256);
    }
    CHECK(slurp(e->dir.path() / "a" / "SHA256SUMS") == slurp(e->dir.path() / "b" / "SHA256SUMS"));
  }
  auto& f = formats();
  auto ma = by_name(f.a), mb = by_name(f.b());
  // An OVA mismatch was seen once under heavy load (not reproduced since): say which member.
  if (ma["img.ova"]->sha256 != mb["img.ova"]->sha256) {
    auto la = tar::read(ma["img.ova"]->path, true, 1 << 20);
    auto lb = tar::read(mb["img.ova"]->path, true, 1 << 20);
    REQUIRE(la);
    REQUIRE(lb);
    for (std::size_t i = 0; i < std::min(la->members.size(), lb->members.size()); ++i) {
      const auto &x = la->members[i], &y = lb->members[i];
      WARN("OVA member " << x.name << "/" << y.name << ": size " << x.size << "/" << y.size << " sha "
                         << x.sha256.substr(0, 12) << "/" << y.sha256.substr(0, 12) << " mtime " << x.mtime
                         << "/" << y.mtime);
      if (x.sha256 != y.sha256 && x.size < (1 << 20)) {
        WARN("a:\n" << x.data << "\nb:\n" << y.data);
      }
    }
  }
}
