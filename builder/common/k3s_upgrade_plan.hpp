// The system-upgrade-controller Plan both programs write: mybinder.org-deploy's
// config/k3s/k3s-upgrade-plan.yaml at the pinned commit, with its target line (`channel: URL` or
// `version: vX`) as a parameter. binder-image bakes it (k3s.upgrade); binder-firstboot places it
// for images built without one (metadata k3s.auto_upgrade). Tests on both sides keep the default
// rendering equal to ../shared/reference/mybinder/k3s-upgrade-plan.yaml.
#pragma once

#include <string>
#include <string_view>

namespace binder::common {

// mybinder's channel: the Plan's default target.
inline constexpr std::string_view k_k3s_stable_channel = "https://update.k3s.io/v1-release/channels/stable";

// target: "channel: https://..." or "version: v1.33.6+k3s1".
std::string k3s_upgrade_plan_yaml(std::string_view target);

}  // namespace binder::common
