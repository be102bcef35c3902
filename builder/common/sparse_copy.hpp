// Copying a byte range between (sparse) disk files: only the source's data extents
// (SEEK_DATA/SEEK_HOLE) are read, and all-zero blocks are not written, so a sparse source stays
// sparse in a sparse destination. Used to place a filesystem image into a disk (base assembly)
// and to move a partition out of and back into a disk (the host-side root grow).
#pragma once

#include <cstdint>
#include <filesystem>

#include "common/result.hpp"

namespace binder::common::fs {

// What the destination range holds before the copy.
enum class RangeTarget {
  zeros,  // it already reads as zeros (a fresh sparse file or a range nothing wrote): kept as is
  punch,  // anything: it is made a hole first (fallocate PUNCH_HOLE), so the result equals the
          // source range exactly
};

// Copies `len` bytes at `from_off` of `from` to `to_off` of `to` (which must exist; it is not
// truncated or extended beyond what the writes reach).
Result<void> copy_range(const std::filesystem::path& from, std::uint64_t from_off,
                        const std::filesystem::path& to, std::uint64_t to_off, std::uint64_t len,
                        RangeTarget target);

}  // namespace binder::common::fs
