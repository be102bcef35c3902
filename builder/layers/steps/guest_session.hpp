// One libguestfs session on a new overlay layer: create the overlay on the parent, launch the
// appliance on it (read-write; parents are read through the backing chain and never written),
// optionally grow the root filesystem, mount root, run the layer's work, sync and shut down.
#pragma once

#include <functional>

#include "image/archive.hpp"
#include "image/guestfs.hpp"
#include "layers/layer_step.hpp"

namespace binder::layers::steps {

enum class GrowRoot { no, yes };

Result<void> with_guest_layer(const stdfs::path& parent, const stdfs::path& out, const BuildEnv& env,
                              GrowRoot grow, const std::function<Result<void>(image::Guest&)>& work);

// Writes `tar` (every mtime `mtime`) into env.work_dir and extracts it at "/" in the guest (one
// upload).
Result<void> upload_tree(image::Guest& guest, const image::TarBuilder& tar, const BuildEnv& env,
                         std::string_view name, std::int64_t mtime);

}  // namespace binder::layers::steps
