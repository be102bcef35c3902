// lsblk parsing and the "never touch data" rules. See disk_probe.hpp.
#include "firstboot/host/disk_probe.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "firstboot/host/files.hpp"

namespace binder::firstboot::host {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* k) {
  if (!j.contains(k) || j[k].is_null()) {
    return {};
  }
  return j[k].is_string() ? j[k].get<std::string>() : j[k].dump();
}

bool flag(const json& j, const char* k) {
  if (!j.contains(k) || j[k].is_null()) {
    return false;
  }
  if (j[k].is_boolean()) {
    return j[k].get<bool>();
  }
  return str(j, k) == "1";
}

BlockDevice parse_dev(const json& j) {
  BlockDevice d;
  d.name = str(j, "name");
  d.path = str(j, "path");
  if (d.path.empty()) {
    d.path = "/dev/" + d.name;
  }
  d.type = str(j, "type");
  std::string size = str(j, "size");
  d.size = size.empty() ? 0 : std::strtoull(size.c_str(), nullptr, 10);
  d.fstype = str(j, "fstype");
  d.mountpoint = str(j, "mountpoint");
  d.pttype = str(j, "pttype");
  d.label = str(j, "label");
  d.partlabel = str(j, "partlabel");
  d.uuid = str(j, "uuid");
  d.ro = flag(j, "ro");
  d.rm = flag(j, "rm");
  if (j.contains("children") && j["children"].is_array()) {
    for (const auto& c : j["children"]) {
      d.children.push_back(parse_dev(c));
    }
  }
  return d;
}

}  // namespace

bool BlockDevice::in_use() const {
  if (!mountpoint.empty() || fstype == "swap") {
    return true;
  }
  return std::any_of(children.begin(), children.end(), [](const auto& c) { return c.in_use(); });
}

std::vector<std::string> lsblk_argv(const std::string& device) {
  std::vector<std::string> argv = {"lsblk", "--json", "-b", "-o",
                                   "NAME,PATH,TYPE,SIZE,FSTYPE,MOUNTPOINT,PTTYPE,RO,RM,LABEL,PARTLABEL,UUID"};
  if (!device.empty()) {
    argv.push_back(device);
  }
  return argv;
}

Result<std::vector<BlockDevice>> parse_lsblk(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("blockdevices") || !j["blockdevices"].is_array()) {
    return common::fail(Errc::external_tool, "lsblk printed no 'blockdevices' JSON");
  }
  std::vector<BlockDevice> out;
  for (const auto& d : j["blockdevices"]) {
    out.push_back(parse_dev(d));
  }
  return out;
}

Result<std::vector<BlockDevice>> probe_devices(Env& env, const std::string& device) {
  TRY_ASSIGN(auto out, env.runner.run_checked(lsblk_argv(device)));
  return parse_lsblk(out.out);
}

DiskVerdict classify(const BlockDevice& d) {
  // Ours first: our filesystem may already be mounted (at /mnt/disk) by an earlier run.
  if (d.children.size() == 1 && d.pttype == "gpt" && d.children[0].partlabel == k_data_label &&
      d.children[0].fstype == "xfs" && d.children[0].label == k_data_label && d.fstype.empty()) {
    return {DiskState::ours_complete, {}, d.children[0].path};
  }
  if (d.in_use()) {
    return {DiskState::has_data, "it (or a partition on it) is mounted or swap", {}};
  }
  if (d.ro) {
    return {DiskState::has_data, "it is read-only", {}};
  }
  if (d.type != "disk" && d.type != "loop") {
    return {DiskState::has_data, fmt::format("it is a '{}', not a whole disk", d.type), {}};
  }
  if (!d.fstype.empty()) {
    return {DiskState::has_data, fmt::format("it holds a '{}' filesystem", d.fstype), {}};
  }
  if (d.children.empty()) {
    if (!d.pttype.empty()) {
      return {DiskState::has_data, fmt::format("it has a '{}' partition table", d.pttype), {}};
    }
    return {DiskState::empty, {}, {}};
  }
  if (d.children.size() == 1 && d.pttype == "gpt" && d.children[0].partlabel == k_data_label) {
    const auto& p = d.children[0];
    if (p.fstype.empty()) {
      return {DiskState::ours_partition, {}, p.path};
    }
    if (p.fstype == "xfs" && p.label == k_data_label) {
      return {DiskState::ours_complete, {}, p.path};
    }
    return {DiskState::has_data, fmt::format("our partition holds a '{}' filesystem", p.fstype), {}};
  }
  return {DiskState::has_data, fmt::format("it has {} partition(s)", d.children.size()), {}};
}

std::string sfdisk_script() {
  return fmt::format("label: gpt\ntype=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"{}\"\n", k_data_label);
}

Result<bool> probe_signatures(Env& env, const std::string& device) {
  // blkid -p: exit 2 means nothing was identified. On a partition, low-level probing always
  // reports the partition-table entry (PART_ENTRY_*): that is not data. Only content keys count.
  TRY_ASSIGN(auto b, env.runner.run({"blkid", "-p", "-o", "export", device}));
  if (b.exit_code == 0) {
    std::size_t start = 0;
    while (start < b.out.size()) {
      std::size_t end = b.out.find('\n', start);
      std::string_view line(b.out.data() + start, (end == std::string::npos ? b.out.size() : end) - start);
      if (line.starts_with("TYPE=") || line.starts_with("PTTYPE=") || line.starts_with("USAGE=")) {
        return true;
      }
      start = end == std::string::npos ? b.out.size() : end + 1;
    }
  } else if (b.exit_code != 2) {
    return common::fail(Errc::external_tool, "'blkid -p {}' exited with status {}", device, b.exit_code);
  }
  TRY_ASSIGN(auto w, env.runner.run_checked({"wipefs", "--noheadings", device}));
  return !trim(w.out).empty();
}

std::vector<const BlockDevice*> auto_candidates(const std::vector<BlockDevice>& devices) {
  std::vector<const BlockDevice*> out;
  for (const auto& d : devices) {
    if (d.type != "disk" || d.rm || d.name.starts_with("zram") || d.size < (1ull << 30)) {
      continue;
    }
    auto v = classify(d);
    if (v.state != DiskState::has_data) {
      out.push_back(&d);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const BlockDevice* a, const BlockDevice* b) {
    bool oa = classify(*a).state != DiskState::empty;
    bool ob = classify(*b).state != DiskState::empty;
    if (oa != ob) {
      return oa;
    }
    return a->size > b->size;
  });
  return out;
}

}  // namespace binder::firstboot::host
