// Step helpers: outcome names and delimited fingerprints.
#include "firstboot/step.hpp"

#include "common/hash.hpp"

namespace binder::firstboot {

const char* to_string(Outcome o) { return o == Outcome::changed ? "changed" : "unchanged"; }

std::string fingerprint_of(const std::vector<std::string>& fields) {
  common::hash::Transcript t;
  for (const auto& f : fields) {
    t.add("f", f);
  }
  return t.digest().substr(0, 16);
}

}  // namespace binder::firstboot
