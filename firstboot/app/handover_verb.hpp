// `binder-firstboot handover [--root DIR] [--json] [-v]`: see federation/handover.hpp.
#pragma once

#include <string>
#include <vector>

namespace binder::firstboot::app {

// Returns the exit code: 0 handed over (or already), 1 failed (rerun converges), 2 usage, 75 the
// agent holds the lock or the API is temporarily unreachable.
int verb_handover(const std::vector<std::string>& args);

}  // namespace binder::firstboot::app
