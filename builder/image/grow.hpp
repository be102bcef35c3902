// Growing a cloud image's root partition and ext4 filesystem to the end of its disk on the host,
// without a libguestfs appliance (20-30 s under TCG): on a sparse raw copy of the disk,
//   sfdisk --relocate gpt-bak-std   the backup GPT moves to the (new) end of the disk
//   sfdisk -N <n> ", +"             the root partition (it must be last on the disk) takes the rest
//   resize2fs -f                    the filesystem fills the partition (whole 4 KiB blocks)
//   e2fsck -fn                      before (clean) and after (consistent)
// resize2fs works on a sparse copy of the partition (it sets a regular file's size to the
// filesystem's, ignoring ?offset=), which is copied back over the partition's range.
// E2FSPROGS_FAKE_TIME is `mtime`, so equal inputs give equal bytes (ext4 superblock times).
// Ubuntu's cloud image: root is partition 1 ("cloudimg-rootfs") but the last one on the disk,
// after 14 (BIOS boot), 15 (ESP) and 16 (/boot).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace binder::image {

using common::Result;

struct GrowReport {
  int partition = 0;            // the root partition's number
  std::string label;            // its filesystem label
  std::uint64_t offset = 0;     // bytes from the start of the disk
  std::uint64_t old_bytes = 0;  // filesystem size before
  std::uint64_t new_bytes = 0;  // and after
  bool grown() const { return new_bytes > old_bytes; }
};

// Grows the root of the raw GPT disk `raw` (already enlarged to its final size) in place. The
// root is the ext2/3/4 partition labelled "cloudimg-rootfs" or "root", else the only one with an
// os-release. Errc::precondition when this cannot be done on the host (no GPT, no single root
// filesystem, root not last on the disk, a journal to replay, sfdisk/resize2fs/e2fsck missing):
// the caller may fall back to an appliance. Other errors name the disk and the failing step.
Result<GrowReport> grow_root_partition(const std::filesystem::path& raw, std::int64_t mtime,
                                       std::chrono::seconds tool_timeout = std::chrono::minutes(30));

}  // namespace binder::image
