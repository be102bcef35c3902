// See args.hpp.
#include "cli/args.hpp"

#include "common/spellcheck.hpp"

namespace binder::cli {

using common::Errc;
using common::fail;

Result<Args> Args::parse(std::string_view verb, const std::vector<std::string>& argv,
                         const std::vector<OptionSpec>& specs, std::size_t min_positional,
                         std::size_t max_positional) {
  Args args;
  bool options_done = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
      args.m_positionals.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    std::string name = a;
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      inline_value = a.substr(eq + 1);
    }
    const OptionSpec* spec = nullptr;
    std::vector<std::string> names;
    for (const auto& s : specs) {
      names.emplace_back(s.name);
      if (s.name == name) {
        spec = &s;
      }
    }
    if (spec == nullptr) {
      auto guess = common::suggest(name, names);
      return fail(Errc::usage, "unknown option '{}' for '{}'{}", name, verb,
                  guess ? fmt::format(" (did you mean '{}'?)", *guess) : "");
    }
    auto& slot = args.m_values[name];
    if (!slot.empty() && !spec->repeatable) {
      return fail(Errc::usage, "option '{}' given twice", name);
    }
    if (spec->value_name.empty()) {
      if (inline_value) {
        return fail(Errc::usage, "option '{}' takes no value", name);
      }
      slot.emplace_back();
    } else if (inline_value) {
      slot.push_back(*inline_value);
    } else if (i + 1 < argv.size()) {
      slot.push_back(argv[++i]);
    } else {
      return fail(Errc::usage, "option '{}' needs a value ({})", name, spec->value_name);
    }
  }
  std::size_t n = args.m_positionals.size();
  if (n < min_positional) {
    return fail(Errc::usage, "'{}' needs {} argument{} (see 'binder-image {} --help')", verb, min_positional,
                min_positional == 1 ? "" : "s", verb);
  }
  if (n > max_positional) {
    return fail(Errc::usage, "'{}': unexpected argument '{}'", verb, args.m_positionals[max_positional]);
  }
  return args;
}

std::optional<std::string> Args::value(std::string_view name) const {
  auto it = m_values.find(std::string(name));
  if (it == m_values.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second.back();
}

std::vector<std::string> Args::values(std::string_view name) const {
  auto it = m_values.find(std::string(name));
  return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

std::string format_options(const std::vector<OptionSpec>& specs) {
  std::string out;
  for (const auto& s : specs) {
    std::string left = std::string(s.name);
    if (!s.value_name.empty()) {
      left += " " + std::string(s.value_name);
    }
    out += fmt::format("  {:<22} {}\n", left, s.help);
  }
  return out;
}

}  // namespace binder::cli
