// See grow.hpp. Every step is an ordinary tool on the raw file; the partition table is read back
// with sfdisk -J after each change, so what is grown is what the table says.
#include "image/grow.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "common/sparse_copy.hpp"
#include "image/ext4.hpp"

namespace binder::image {

namespace {

using common::Errc;
using common::fail;
namespace exec = common::exec;
namespace stdfs = std::filesystem;

struct Part {
  int number = 0;
  std::uint64_t start = 0;  // sectors
  std::uint64_t size = 0;   // sectors
};

struct Table {
  std::string label;  // "gpt", "dos"
  std::uint64_t sector = 512;
  std::uint64_t last_lba = 0;
  std::vector<Part> parts;
};

// The number at the end of a node name ("disk.raw14" -> 14).
int node_number(const std::string& node) {
  std::size_t i = node.size();
  while (i > 0 && node[i - 1] >= '0' && node[i - 1] <= '9')
    --i;
  return i == node.size() ? 0 : std::stoi(node.substr(i));
}

Result<Table> read_table(const stdfs::path& raw, std::chrono::seconds timeout) {
  TRY_ASSIGN(exec::Output out, exec::run({"sfdisk", "-J", raw.string()}, {.timeout = timeout}));
  if (out.exit_code != 0) {
    return fail(Errc::precondition, "'{}' has no partition table sfdisk can read: {}", raw.string(), out.err);
  }
  auto j = nlohmann::json::parse(out.out, nullptr, false);
  if (j.is_discarded() || !j.contains("partitiontable")) {
    return fail(Errc::precondition, "sfdisk -J printed no partition table for '{}'", raw.string());
  }
  const auto& pt = j["partitiontable"];
  Table t;
  t.label = pt.value("label", "");
  t.sector = pt.value("sectorsize", std::uint64_t{512});
  t.last_lba = pt.value("lastlba", std::uint64_t{0});
  for (const auto& p : pt.value("partitions", nlohmann::json::array())) {
    t.parts.push_back({node_number(p.value("node", "")), p.value("start", std::uint64_t{0}),
                       p.value("size", std::uint64_t{0})});
  }
  return t;
}

Result<exec::Output> run_tool(std::vector<std::string> argv, std::int64_t mtime, std::chrono::seconds timeout,
                              const std::string& stdin_data = {}) {
  return exec::run(argv, {.timeout = timeout,
                          .stdin_data = stdin_data,
                          .env = {{"E2FSPROGS_FAKE_TIME", std::to_string(mtime)}}});
}

}  // namespace

Result<GrowReport> grow_root_partition(const stdfs::path& raw, std::int64_t mtime,
                                       std::chrono::seconds timeout) {
  for (const char* tool : {"sfdisk", "resize2fs", "e2fsck"}) {
    if (!exec::find_program(tool)) {
      return fail(Errc::precondition, "'{}' is not installed: the root cannot grow on the host", tool);
    }
  }
  TRY_ASSIGN(Table table, read_table(raw, timeout));
  if (table.label != "gpt") {
    return fail(Errc::precondition, "'{}' has a '{}' partition table, not GPT", raw.string(), table.label);
  }
  // The root filesystem: by label, else the only partition holding an os-release.
  const Part* root = nullptr;
  std::string label;
  std::vector<std::pair<const Part*, std::string>> with_os_release;
  for (const Part& p : table.parts) {
    auto fs = Ext4Fs::open(raw, p.start * table.sector, false);
    if (!fs) {
      continue;
    }
    std::string l = fs->label();
    if (l == "cloudimg-rootfs" || l == "root") {
      root = &p;
      label = l;
      break;
    }
    for (const char* f : {"/etc/os-release", "/usr/lib/os-release"}) {
      if (auto st = fs->stat(f); st && st->has_value()) {
        with_os_release.emplace_back(&p, l);
        break;
      }
    }
  }
  if (root == nullptr && with_os_release.size() == 1) {
    root = with_os_release.front().first;
    label = with_os_release.front().second;
  }
  if (root == nullptr) {
    return fail(Errc::precondition, "no single ext2/3/4 root filesystem in '{}'", raw.string());
  }
  GrowReport report;
  report.partition = root->number;
  report.label = label;
  report.offset = root->start * table.sector;
  for (const Part& p : table.parts) {
    if (p.start > root->start) {
      return fail(Errc::precondition,
                  "root partition {} is not the last on the disk (partition {} follows it): it cannot grow",
                  root->number, p.number);
    }
  }
  {
    TRY_ASSIGN(Ext4Fs fs, Ext4Fs::open(raw, report.offset, false));  // refuses a journal to replay
    report.old_bytes = fs.size_bytes();
  }
  // resize2fs sets a regular file's size to the filesystem's (ignoring ?offset=), so the
  // filesystem is resized in a file of its own, a sparse copy of the partition, and copied back.
  stdfs::path part = raw.parent_path() / (raw.filename().string() + ".root");
  struct Remove {
    stdfs::path p;
    ~Remove() {
      std::error_code ec;
      stdfs::remove(p, ec);
    }
  } remove_part{part};
  std::string device = part.string();
  auto checked = [&](std::vector<std::string> argv, std::string_view what,
                     const std::string& in = {}) -> Result<exec::Output> {
    TRY_ASSIGN(exec::Output out, run_tool(argv, mtime, timeout, in));
    if (out.exit_code != 0) {
      return fail(Errc::external_tool, "{} of '{}' failed (exit {}): {}{}", what, raw.string(), out.exit_code,
                  out.out, out.err);
    }
    return out;
  };
  TRY(common::fs::write_file_atomic(part, "", 0600));
  stdfs::resize_file(part, root->size * table.sector);
  TRY(common::fs::copy_range(raw, report.offset, part, 0, root->size * table.sector,
                             common::fs::RangeTarget::zeros));
  TRY_CTX(checked({"e2fsck", "-fn", device}, "checking the root filesystem (e2fsck -fn) before growing"),
          "partition {}", root->number);

  // 1. The backup GPT to the end of the enlarged disk, 2. the root partition to the rest.
  TRY(checked(
      {"sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", "--relocate", "gpt-bak-std", raw.string()},
      "moving the backup GPT header (sfdisk --relocate gpt-bak-std)"));
  TRY(checked({"sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", "-N", std::to_string(root->number),
               raw.string()},
              fmt::format("growing partition {} (sfdisk -N {})", root->number, root->number), ", +\n"));
  TRY_ASSIGN(Table grown, read_table(raw, timeout));
  auto it = std::find_if(grown.parts.begin(), grown.parts.end(),
                         [&](const Part& p) { return p.number == root->number; });
  if (it == grown.parts.end() || it->start != root->start) {
    return fail(Errc::internal, "partition {} of '{}' moved or vanished while growing", root->number,
                raw.string());
  }
  std::uint64_t part_bytes = it->size * table.sector;
  std::uint64_t blocks = part_bytes / 4096;
  stdfs::resize_file(part, part_bytes);

  // 3. The filesystem to the partition (whole 4 KiB blocks), 4. checked.
  if (blocks * 4096 > report.old_bytes) {
    TRY(checked({"resize2fs", "-f", device, fmt::format("{}K", blocks * 4)},
                "growing the root filesystem (resize2fs)"));
  }
  TRY_CTX(checked({"e2fsck", "-fn", device}, "checking the grown root filesystem (e2fsck -fn)"),
          "partition {}", root->number);
  // Back into the disk: the partition's range becomes exactly the grown filesystem's file.
  TRY(common::fs::copy_range(part, 0, raw, report.offset, part_bytes, common::fs::RangeTarget::punch));
  {
    TRY_ASSIGN(Ext4Fs fs, Ext4Fs::open(raw, report.offset, false));
    report.new_bytes = fs.size_bytes();
  }
  TRY_CTX(checked({"e2fsck", "-fn", fmt::format("{}?offset={}", raw.string(), report.offset)},
                  "checking the grown root filesystem in the disk (e2fsck -fn)"),
          "partition {}", root->number);
  return report;
}

}  // namespace binder::image
