// Block device inventory for the extra-disk step: lsblk's JSON parsed into a tree, and the rules
// that keep us away from data. A disk is a candidate only if it is a whole disk (not the one
// holding / or any mount, not read-only, not removable, not zram/loop/rom in auto mode), at
// least 1 GiB, and carries nothing: no partitions, no partition table, no filesystem, and no
// signature found by low-level probes (blkid -p, wipefs). Or it is "ours": one GPT partition
// named binder-data. Pure functions except probe_* which run tools through the runner.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "firstboot/env.hpp"

namespace binder::firstboot::host {

inline constexpr std::string_view k_data_label = "binder-data";  // GPT name and xfs label
inline constexpr std::string_view k_mountpoint = "/mnt/disk";

struct BlockDevice {
  std::string name;        // "vdb"
  std::string path;        // "/dev/vdb"
  std::string type;        // disk | part | loop | rom | lvm ...
  std::uint64_t size = 0;  // bytes
  std::string fstype, mountpoint, pttype, label, partlabel, uuid;
  bool ro = false, rm = false;
  std::vector<BlockDevice> children;

  // This device or a descendant is mounted (or is swap).
  bool in_use() const;
};

// `lsblk --json -b -o NAME,PATH,TYPE,SIZE,FSTYPE,MOUNTPOINT,PTTYPE,RO,RM,LABEL,PARTLABEL,UUID`
std::vector<std::string> lsblk_argv(const std::string& device = {});
// Accepts both old (strings "0"/"1") and new (booleans, numbers) lsblk JSON.
Result<std::vector<BlockDevice>> parse_lsblk(std::string_view json_text);
Result<std::vector<BlockDevice>> probe_devices(Env& env, const std::string& device = {});

enum class DiskState {
  empty,           // a candidate: nothing on it
  ours_partition,  // GPT with our partition, no filesystem yet
  ours_complete,   // our partition with our xfs filesystem
  has_data,        // anything else: never touched
};

struct DiskVerdict {
  DiskState state = DiskState::has_data;
  std::string reason;     // why it has data / is unsuitable
  std::string partition;  // our partition's path when ours_*
};

// Classifies from lsblk data only (signature probes come on top, see probe_signatures).
DiskVerdict classify(const BlockDevice& disk);
// True when blkid -p or wipefs find any signature on `device` (a filesystem or partition table
// lsblk did not show, e.g. LVM or RAID members).
Result<bool> probe_signatures(Env& env, const std::string& device);

// The sfdisk script: a GPT with one Linux-filesystem partition over the whole disk, named
// binder-data (named-field syntax; the positional ",,L" form has no name field).
std::string sfdisk_script();

// Auto mode: the eligible disks (empty or ours), largest first, ours before empty.
std::vector<const BlockDevice*> auto_candidates(const std::vector<BlockDevice>& devices);

}  // namespace binder::firstboot::host
