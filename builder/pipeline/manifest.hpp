// manifest.json beside the outputs, format binder-manifest-v1:
//   {"format":"binder-manifest-v1","profile","builder_version","k3s_version",
//    "source_date_epoch","inputs":[{"role","name","sha256"}],
//    "layers":[{"kind","digest"}],"outputs":[{"file","format","compression","size","sha256"}]}
// Written atomically after the outputs and SHA256SUMS.
#pragma once

#include <filesystem>
#include <vector>

#include "config/profile.hpp"
#include "export/export.hpp"
#include "layers/layer_plan.hpp"

namespace binder::pipeline {

using common::Result;

std::string manifest_json(const config::Profile& profile, const layers::ResolvedInputs& inputs,
                          const layers::LayerPlan& plan, const std::vector<exporter::ExportedFile>& outputs);

Result<void> write_manifest(const std::filesystem::path& out_dir, const std::string& text);

}  // namespace binder::pipeline
