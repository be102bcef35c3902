// The binder-image command line: a verb table {name, help, run}. Options travel in structs.
#pragma once

namespace binder::cli {

// Parses argv, runs the verb, returns the process exit code (0, 1, 2, 70, 130).
int main(int argc, char** argv);

}  // namespace binder::cli
