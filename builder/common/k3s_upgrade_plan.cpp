// See k3s_upgrade_plan.hpp.
#include "common/k3s_upgrade_plan.hpp"

#include <fmt/format.h>

namespace binder::common {

std::string k3s_upgrade_plan_yaml(std::string_view target) {
  return fmt::format(R"PLAN(# Upgrade plan
# this is _not_ automatically applied during CD (yet)
apiVersion: upgrade.cattle.io/v1
kind: Plan
metadata:
  name: upgrade-plan
  namespace: system-upgrade
spec:
  concurrency: 1
  cordon: false
  serviceAccountName: system-upgrade
  upgrade:
    image: rancher/k3s-upgrade
  {}
  # it appears nodeSelector can't be empty
  nodeSelector:
    matchLabels:
      node.kubernetes.io/instance-type: k3s
  # Sunday 0-2/UTC is our current lowest traffic time
  window:
    days:
      - sunday
    startTime: 00:00
    endTime: 02:00
    timeZone: UTC
)PLAN",
                     target);
}

}  // namespace binder::common
