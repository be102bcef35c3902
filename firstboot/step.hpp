// The firstboot step interface (layout-proposal §3.10). A Step converges one piece of machine or
// cluster state. The runner (runner.hpp) journals begin/done/adopted/failed around it and skips
// it on later runs when the journal holds done/adopted with the same fingerprint.
//
// Contract for implementations:
// - id() is stable across versions ("host:hostname", "k3s:config", "dns:records").
// - fingerprint() hashes the resolved parameters (metadata values, machine facts) the step acts
//   on; a changed fingerprint makes the runner apply the step again.
// - is_satisfied() is a read-only probe: true means the world is already right, the runner records
//   "adopted" and never calls apply(). Returning false is always safe.
// - apply() must be safe to call again after an interruption at ANY point of an earlier apply(),
//   and reports whether it changed anything. Values a later step needs, and generated secrets,
//   go to env.put_output() BEFORE they are used anywhere (sent, written, configured).
// - Errors: Errc::temporary for "retry later" (network not up, API not ready: exit 75), anything
//   else fails the run (exit 1), Errc::invalid_config (exit 2) for metadata problems.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace binder::firstboot {

using common::Errc;
using common::Error;
using common::Result;

class Env;

enum class Outcome { changed, unchanged };
const char* to_string(Outcome o);

class Step {
 public:
  virtual ~Step() = default;
  virtual std::string_view id() const = 0;
  // One line for `binder-firstboot plan`: "write /etc/hostname ('example')".
  virtual std::string describe(const Env& env) const = 0;
  virtual std::string fingerprint(const Env& env) const = 0;
  virtual Result<bool> is_satisfied(Env& env) const {
    (void)env;
    return false;
  }
  virtual Result<Outcome> apply(Env& env) = 0;
};

using StepList = std::vector<std::unique_ptr<Step>>;

// sha256 hex of the fields, delimited so that {"ab","c"} and {"a","bc"} differ.
std::string fingerprint_of(const std::vector<std::string>& fields);

}  // namespace binder::firstboot
