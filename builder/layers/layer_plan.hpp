// Resolving and building the chain of layers: digests bottom-up (each includes its parent's),
// hit/miss against the cache with the reason for every miss, then building the missing layers
// in order and publishing each atomically before the next starts.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/profile.hpp"
#include "layers/layer_cache.hpp"
#include "layers/layer_step.hpp"
#include "layers/progress.hpp"

namespace binder::layers {

struct PlannedLayer {
  std::unique_ptr<LayerStep> step;
  std::string digest;
  std::string transcript;
  bool hit = false;
  std::vector<std::string> reasons;  // why it is a miss (empty for a hit)
};

struct LayerPlan {
  std::vector<PlannedLayer> layers;  // root first
  const PlannedLayer& top() const { return layers.back(); }
  int launches_needed() const;  // appliance launches of the misses
};

// The steps of `profile`: base, system, final. `inputs` must outlive the plan.
std::vector<std::unique_ptr<LayerStep>> plan_layers(const config::Profile& profile,
                                                    const ResolvedInputs& inputs);

enum class UseCache { yes, no };

// Hashes every step (canonical settings from config::canonical_settings) and looks each digest
// up. A miss's reasons compare its transcript with the newest cached layer of the same kind
// (same parent preferred). With UseCache::no every layer is a miss ("--no-cache").
Result<LayerPlan> resolve_digests(const config::Profile& profile,
                                  std::vector<std::unique_ptr<LayerStep>> steps, const LayerCache& cache,
                                  UseCache use = UseCache::yes);

// Builds every missing layer in order into `cache`, publishing each (partial file, fsync,
// rename, metadata last). On failure the failed layer leaves nothing in the cache; the layers
// already published stay valid.
Result<void> build_missing_layers(LayerPlan& plan, const LayerCache& cache, const BuildEnv& env,
                                  Progress& progress);

// "hit"/"miss" lines for `binder-image plan`, with reasons.
std::string format_plan(const LayerPlan& plan);

}  // namespace binder::layers
