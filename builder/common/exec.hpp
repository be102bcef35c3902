// Running programs: argv vectors only (no shell strings), output captured, hard timeout (the whole
// process group is killed), optional stdin data and extra environment. Non-logging.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace binder::common::exec {

struct Options {
  std::optional<std::chrono::milliseconds> timeout;  // none = wait forever
  std::string stdin_data;
  std::map<std::string, std::string> env;  // added to (or overriding) the current environment
  std::filesystem::path cwd;
  bool capture_stdout = true;  // false: inherit (a child that streams to the terminal)
  bool capture_stderr = true;
};

struct Output {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;      // signal number if killed
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in PATH). Returns an error only if the program could not be started;
// a non-zero exit is reported in Output.
Result<Output> run(const std::vector<std::string>& argv, const Options& options = {});

// Like run(), but a non-zero exit, signal or timeout becomes an Errc::external_tool error whose
// message names the program and quotes the last lines of its stderr.
Result<Output> run_checked(const std::vector<std::string>& argv, const Options& options = {});

// Searches PATH; nullopt if not found.
std::optional<std::filesystem::path> find_program(const std::string& name);

// "qemu-img convert -O qcow2 'a b'" for messages.
std::string quote_argv(const std::vector<std::string>& argv);

}  // namespace binder::common::exec
