// See layer_plan.hpp.
#include "layers/layer_plan.hpp"

#include "config/settings.hpp"
#include "layers/digest.hpp"
#include "layers/steps/steps.hpp"

namespace binder::layers {
namespace {

config::LayerKind layer_kind(std::string_view kind) {
  if (kind == "base") {
    return config::LayerKind::base;
  }
  if (kind == "system") {
    return config::LayerKind::system;
  }
  if (kind == "charts") {
    return config::LayerKind::charts;
  }
  return config::LayerKind::final;
}

std::vector<std::string> miss_reasons(const LayerCache& cache, const std::string& kind,
                                      const std::string& parent, const std::string& transcript) {
  std::optional<LayerMeta> ref;
  for (const auto& m : cache.list()) {  // newest first
    if (m.kind != kind) {
      continue;
    }
    if (m.parent == parent) {
      ref = m;
      break;
    }
    if (!ref) {
      ref = m;
    }
  }
  if (!ref) {
    return {fmt::format("no cached '{}' layer", kind)};
  }
  auto before = cache.transcript(ref->digest);
  if (!before) {
    return {fmt::format("cached '{}' layer {} has no transcript", kind, ref->digest.substr(0, 12))};
  }
  auto diff = explain_difference(*before, transcript);
  if (diff.empty()) {
    diff.push_back("same inputs as a layer that is no longer cached");
  }
  return diff;
}

}  // namespace

int LayerPlan::launches_needed() const {
  int n = 0;
  for (const auto& l : layers) {
    n += l.hit ? 0 : l.step->guest_launches();
  }
  return n;
}

std::vector<std::unique_ptr<LayerStep>> plan_layers(const config::Profile& profile,
                                                    const ResolvedInputs& inputs) {
  std::vector<std::unique_ptr<LayerStep>> steps;
  steps.push_back(steps::make_base_step(profile, inputs));
  steps.push_back(steps::make_system_step(profile, inputs));
  steps.push_back(steps::make_charts_step(profile, inputs));
  steps.push_back(steps::make_final_step(profile, inputs));
  return steps;
}

Result<LayerPlan> resolve_digests(const config::Profile& profile,
                                  std::vector<std::unique_ptr<LayerStep>> steps, const LayerCache& cache,
                                  UseCache use) {
  LayerPlan plan;
  std::string parent;
  bool parent_missing = false;
  for (auto& step : steps) {
    std::string kind(step->kind());
    auto t = begin_transcript(kind, parent, config::canonical_settings(profile, layer_kind(kind)),
                              step->version());
    TRY_CTX(step->hash_inputs(t), "hashing the inputs of layer '{}'", kind);
    PlannedLayer l;
    l.digest = t.digest();
    l.transcript = t.text();
    l.hit = use == UseCache::yes && cache.lookup(l.digest).has_value();
    if (use == UseCache::no) {
      l.reasons.push_back("--no-cache");
    } else if (!l.hit) {
      l.reasons = miss_reasons(cache, kind, parent, l.transcript);
      if (parent_missing && l.reasons.size() == 1 && l.reasons[0] == "parent layer changed") {
        l.reasons[0] = "parent layer is rebuilt";
      }
    }
    parent_missing = !l.hit;
    l.step = std::move(step);
    parent = l.digest;
    plan.layers.push_back(std::move(l));
  }
  return plan;
}

Result<void> build_missing_layers(LayerPlan& plan, const LayerCache& cache, const BuildEnv& env,
                                  Progress& progress) {
  std::string parent;
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    PlannedLayer& l = plan.layers[i];
    std::string kind(l.step->kind());
    std::string title =
        fmt::format("layer '{}' ({}/{}): {}", kind, i + 1, plan.layers.size(), l.step->describe());
    if (l.hit) {
      auto s = progress.step("layer:" + kind, title);
      s.finish("cached", {{"digest", l.digest}});
      parent = l.digest;
      continue;
    }
    std::optional<double> eta;
    if (l.step->guest_launches() > 0) {
      eta = 45.0;  // one appliance launch under TCG plus the work (measured ~20 s + uploads)
    }
    auto s = progress.step("layer:" + kind, title, eta);
    TRY_ASSIGN(PendingLayer pending, cache.begin(l.digest));
    stdfs::path parent_image = parent.empty() ? stdfs::path() : cache.image_path(parent);
    TRY_CTX(l.step->build(parent_image, pending.path(), env), "building layer '{}'", kind);
    LayerMeta meta;
    meta.digest = l.digest;
    meta.kind = kind;
    meta.parent = parent;
    meta.abi = k_layer_abi;
    meta.builder_version = BINDER_VERSION;
    TRY_CTX(cache.publish(pending, meta, l.transcript, l.step->sidecars()), "publishing layer '{}'", kind);
    s.finish("built", {{"digest", l.digest}});
    l.hit = true;
    parent = l.digest;
  }
  return {};
}

std::string format_plan(const LayerPlan& plan) {
  std::string out;
  for (const auto& l : plan.layers) {
    out += fmt::format("{:<7} {:<4} {}  {}\n", l.step->kind(), l.hit ? "hit" : "miss", l.digest.substr(0, 16),
                       l.step->describe());
    for (const auto& r : l.reasons) {
      out += fmt::format("               - {}\n", r);
    }
  }
  int launches = plan.launches_needed();
  out += fmt::format("{} appliance launch{} needed\n", launches, launches == 1 ? "" : "es");
  return out;
}

}  // namespace binder::layers
