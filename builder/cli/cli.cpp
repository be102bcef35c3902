// binder-image's entry: global options, the verb table, --help from the table, errors printed
// once here with the project's exit codes (0 ok, 1 failed, 2 usage/config, 70 internal, 130).
#include "cli/cli.hpp"

#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "cli/verbs.hpp"
#include "common/log.hpp"
#include "common/spellcheck.hpp"

namespace binder::cli {
namespace {

namespace log = common::log;

std::vector<Verb> all_verbs() {
  std::vector<Verb> v = build_verbs();
  for (auto&& extra : {image_verbs(), seed_verbs()}) {
    v.insert(v.end(), extra.begin(), extra.end());
  }
  return v;
}

std::string usage(const std::vector<Verb>& verbs) {
  std::string out =
      "usage: binder-image [-v|--verbose] VERB [options]\n\n"
      "Builds preconfigured BinderHub member disk images from a profile.\n\nverbs:\n";
  for (const auto& v : verbs) {
    out += fmt::format("  {:<12} {}\n", v.name, v.synopsis);
  }
  out +=
      "\n'binder-image VERB --help' describes a verb. --version prints the version.\n"
      "exit status: 0 ok, 1 failed, 2 usage or config error, 70 internal error, 130 interrupted.\n";
  return out;
}

// Wraps a paragraph at 78 columns.
std::string wrap(std::string_view text) {
  std::string out, line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t sp = text.find(' ', pos);
    std::string_view word = text.substr(pos, sp == std::string_view::npos ? text.npos : sp - pos);
    pos = sp == std::string_view::npos ? text.size() : sp + 1;
    if (!line.empty() && line.size() + 1 + word.size() > 78) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + std::string(word);
  }
  return out + line + "\n";
}

std::string verb_help(const Verb& v) {
  std::string out = fmt::format("usage: binder-image {} {}\n\n{}", v.name, v.synopsis, wrap(v.help));
  if (!v.options.empty()) {
    out += "\noptions:\n" + format_options(v.options);
  }
  out += "  --help                 this help\n";
  return out;
}

int report(const common::Error& e) {
  int code = common::exit_code_for(e);
  if (e.code == common::Errc::invalid_config && e.message.find(": error: ") != std::string::npos) {
    // Compiler-style diagnostics from the profile loader: print as they are.
    fmt::print(stderr, "{}\n", log::redact(e.to_string()));
  } else {
    log::error("{}", e.to_string());
  }
  return code;
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  log::Level level = log::Level::info;
  while (!args.empty() && (args[0] == "-v" || args[0] == "--verbose")) {
    level = log::Level::debug;
    args.erase(args.begin());
  }
  log::configure(level);
  std::vector<Verb> verbs = all_verbs();
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    fmt::print(args.empty() ? stderr : stdout, "{}", usage(verbs));
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    fmt::print(stdout, "binder-image {}\n", BINDER_VERSION);
    return 0;
  }
  const Verb* verb = nullptr;
  std::vector<std::string> names;
  for (const auto& v : verbs) {
    names.emplace_back(v.name);
    if (v.name == args[0]) {
      verb = &v;
    }
  }
  if (verb == nullptr) {
    auto guess = common::suggest(args[0], names);
    log::error("unknown verb '{}'{}; see 'binder-image --help'", args[0],
               guess ? fmt::format(" (did you mean '{}'?)", *guess) : "");
    return 2;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest) {
    if (a == "--help" || a == "-h") {
      fmt::print(stdout, "{}", verb_help(*verb));
      return 0;
    }
    if (a == "--") {
      break;
    }
  }
  auto parsed = Args::parse(verb->name, rest, verb->options, verb->min_positional, verb->max_positional);
  if (!parsed) {
    return report(parsed.error());
  }
  auto result = verb->run(*parsed);
  if (!result) {
    return report(result.error());
  }
  return *result;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "internal error: {}\n", e.what());
    return 70;
  }
}

}  // namespace binder::cli
