// Reproducibility: two builds from scratch (empty cache, --no-cache) of the same inputs with
// SOURCE_DATE_EPOCH set give the same file tree in the root filesystem: every path, type, mode, owner, size,
// mtime, symlink target and file content (read on the host with libext2fs), and the qcow2 outputs are
// byte-identical (a rootfs base: every layer is written on the host; builder/export/README.md).
#include <catch2/catch.hpp>

#include "builder_fixture.hpp"
#include "image/ext4.hpp"
#include "image/qemu_img.hpp"

using namespace builder_it;
using binder::image::Ext4Fs;

namespace {

std::vector<Ext4Fs::TreeEntry> root_tree(const stdfs::path& qcow2, const stdfs::path& raw) {
  REQUIRE(binder::image::convert(qcow2, raw, binder::image::ConvertOptions{.output_format = "raw"}));
  auto table = exec::run_checked({"sfdisk", "-J", raw.string()});
  REQUIRE(table);
  auto j = nlohmann::json::parse(table->out);
  for (const auto& p : j["partitiontable"]["partitions"]) {
    std::uint64_t offset = p["start"].get<std::uint64_t>() * 512;
    auto fs = Ext4Fs::open(raw, offset, false);
    if (fs && fs->label() == "root") {
      auto tree = fs->list_tree();
      REQUIRE(tree);
      stdfs::remove(raw);
      return *tree;
    }
  }
  FAIL("no root filesystem in " << qcow2);
  return {};
}

std::string describe(const Ext4Fs::TreeEntry& e) {
  return fmt::format("{} type {} mode {:o} {}:{} size {} mtime {} -> '{}' sha {}", e.path,
                     static_cast<int>(e.stat.type), e.stat.mode, e.stat.uid, e.stat.gid, e.stat.size,
                     e.stat.mtime, e.stat.link_target, e.sha256.substr(0, 12));
}

}  // namespace

TEST_CASE("builder: two builds from scratch give the same file tree", "[builder][repro]") {
  // Build a: the shared image (built from an empty cache with "extra v0"); build b: the same
  // inputs again with --no-cache, i.e. every layer made afresh.
  Built shared = shared_image();
  REQUIRE(fs::write_file_atomic(extra_file(), "extra v0\n"));
  std::vector<stdfs::path> images{shared.image};
  stdfs::path out = k_dir / "repro";
  REQUIRE(fs::remove_tree(out));
  auto r = run_binder(
      {"build", profile_path().string(), "--output", out.string(), "--no-cache", "--accel", "tcg", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(done_event(r.out)["layers_built"] == 4);
  images.push_back(out / "debian-12-test.qcow2");
  auto a = root_tree(images[0], k_dir / "repro-a.raw");
  auto b = root_tree(images[1], k_dir / "repro-b.raw");
  CHECK(a.size() > 10000);  // a whole Debian system, not an empty tree
  std::vector<std::string> diffs;
  std::size_t i = 0, k = 0;
  while (i < a.size() || k < b.size()) {
    if (k == b.size() || (i < a.size() && a[i].path < b[k].path)) {
      diffs.push_back("only in a: " + describe(a[i++]));
    } else if (i == a.size() || b[k].path < a[i].path) {
      diffs.push_back("only in b: " + describe(b[k++]));
    } else {
      std::string da = describe(a[i++]), db = describe(b[k++]);
      if (da != db) {
        diffs.push_back("a: " + da + "\n   b: " + db);
      }
    }
  }
  std::string shown;
  for (std::size_t n = 0; n < diffs.size() && n < 30; ++n) {
    shown += diffs[n] + "\n";
  }
  INFO(diffs.size() << " differences:\n" << shown);
  CHECK(diffs.empty());
  // Every layer is written on the host from the same inputs with derived identifiers and the
  // epoch for every time: the images are byte-identical too.
  bool same_bytes = binder::common::hash::sha256_file(images[0]).value() ==
                    binder::common::hash::sha256_file(images[1]).value();
  CHECK(same_bytes);
  WARN("file trees: " << a.size() << " entries, " << diffs.size() << " differences; qcow2 outputs "
                      << (same_bytes ? "byte-identical" : "differ in bytes"));
}
