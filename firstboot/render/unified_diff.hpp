// Unified diffs in git's format ("diff --git", `git apply` and `patch -p1` accept them), built
// from what is known, not from two whole files: a new file from its text, and an existing file
// from insertion hunks whose context lines were copied from the upstream file at a pinned commit
// (the whole upstream file is not needed, so none is embedded). A hunk whose context does not
// match the target makes `git apply` refuse it rather than guess. No "index" line: its postimage
// blob id cannot be known without the whole file, and GNU patch reads an all-zero one as a
// deletion; to land on a newer upstream, apply at the pinned commit and let git merge/rebase.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace binder::firstboot::render {

// Lines to insert between `before` and `after`, which are consecutive lines of the old file
// starting at 1-based line `old_start`. Lines carry no '\n'.
struct InsertionHunk {
  int old_start = 1;
  std::vector<std::string> before;
  std::vector<std::string> added;
  std::vector<std::string> after;
};

// "diff --git a/P b/P", "new file mode 100644", "--- /dev/null", "+++ b/P", one hunk with every
// line of `text` added ("\ No newline at end of file" when it does not end in '\n'). Empty text:
// the header alone (git's form for an empty new file).
std::string new_file_diff(std::string_view path, std::string_view text, std::string_view mode = "100644");

// The section for an existing file: "diff --git", "---"/"+++", then one "@@ -a,b +c,d @@" hunk
// per entry. Hunks must be in file order and not overlap.
std::string insertion_diff(std::string_view path, const std::vector<InsertionHunk>& hunks);

// Splits text into lines without their '\n' (a trailing '\n' does not make an empty last line).
std::vector<std::string> split_lines(std::string_view text);

}  // namespace binder::firstboot::render
