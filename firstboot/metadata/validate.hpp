// Validation of a merged binder_member document into the typed Member. All problems are
// collected before failing; each names the source file:line:col, the key path and the problem
// ("did you mean 'extra_disk'?" for unknown keys and enum values). Keys starting with "x-" are
// free for users. Non-logging.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "firstboot/metadata/member.hpp"
#include "firstboot/metadata/source_doc.hpp"

namespace binder::firstboot {

struct Diagnostic {
  common::SourceLoc where;
  std::string path;     // "binder_member.node.extra_disk"
  std::string message;  // "expected 'auto', 'none' or a /dev/ path, got 'sdb'"
  // "<file>:<line>:<col>: error: binder_member.node.extra_disk: <message>"
  std::string to_string() const;
};

// On failure: Errc::invalid_config whose message holds every diagnostic, one per line.
common::Result<Member> member_from_doc(const SourceDoc& doc);
// Same, exposing the diagnostics (tests).
Member member_from_doc(const SourceDoc& doc, std::vector<Diagnostic>& diagnostics);

}  // namespace binder::firstboot
