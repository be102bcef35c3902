// The member-side overrides: ONE short named list of what the VM turns off in the mybinder release
// because it needs files only central has (git-crypt ciphertext left out of the packaged chart,
// secrets/config/common/*.yaml), until `binder-firstboot handover` gives the release to central's
// deploy.py, which layers those files and drops this list. They go into the HelmChart `spec.set`
// (highest precedence, like `helm --set`; booleans as "true"/"false", which the helm-controller
// passes with --set, other strings with --set-string), so valuesContent and valuesSecrets stay
// byte-for-byte the exported config/<cluster>.yaml and secrets/config/<cluster>.yaml.
//
// central_only_values() lists what the member simply lives without until handover (nothing to
// turn off; the handover bundle README states it, with the consequence).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace binder::firstboot::render {

struct MemberOverride {
  std::string key;     // Helm --set path, e.g. "minesweeper.enabled"
  std::string value;   // as HelmChart spec.set holds it: "false", or a string
  std::string reason;  // why, for status and the handover bundle README
};

struct CentralOnlyValue {
  std::string key;          // values path central sets
  std::string consequence;  // what the member lives with until handover
};

const std::vector<MemberOverride>& member_overrides();
const std::vector<CentralOnlyValue>& central_only_values();

// The overrides as HelmChart spec.set (key -> value).
nlohmann::json member_overrides_set();

// The overrides as a values document (typed: "true"/"false" become booleans, as helm --set
// reads them), for layering checks and schema validation.
nlohmann::json member_overrides_values();

}  // namespace binder::firstboot::render
