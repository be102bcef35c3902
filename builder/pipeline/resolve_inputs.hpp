// Resolving a build's external inputs before any layer is hashed: the base image or rootfs
// tarball, the k3s binary and airgap images (fetched and verified by base/fetch.hpp, cached),
// the binder-firstboot binary and unit, and baked member metadata. Every error names the file,
// URL or profile key (config errors keep their file:line).
#pragma once

#include <filesystem>

#include "config/profile.hpp"
#include "layers/layer_step.hpp"
#include "layers/progress.hpp"

namespace binder::pipeline {

using common::Result;

// The firstboot binary used when the profile names none: BINDER_FIRSTBOOT, else next to the
// running binder-image (same dir, ../firstboot/), else /usr/local/sbin/binder-firstboot.
Result<std::filesystem::path> default_firstboot_binary();

// Fetches/verifies all inputs; `date` becomes ResolvedInputs::file_time. With `fetch_remote`
// false (plan), URLs are not downloaded: their expected sha256 (given or from SHA256SUMS) stands
// in, and the path stays empty.
Result<layers::ResolvedInputs> resolve_inputs(const config::Profile& profile, const common::BuildDate& date,
                                              layers::Progress& progress, bool fetch_remote = true);

}  // namespace binder::pipeline
