// The system-upgrade-controller Plan this agent places for an image built without one: mybinder's
// config/k3s/k3s-upgrade-plan.yaml on its stable channel, the same text binder-image bakes
// (common/k3s_upgrade_plan.cpp); a test checks it equals the reference copy.
#include <fmt/format.h>

#include "common/k3s_upgrade_plan.hpp"
#include "firstboot/k3s/k3s_files.hpp"

namespace binder::firstboot::k3s {

std::string_view upgrade_plan_yaml() {
  static const std::string k_plan =
      common::k3s_upgrade_plan_yaml(fmt::format("channel: {}", common::k_k3s_stable_channel));
  return k_plan;
}

}  // namespace binder::firstboot::k3s
