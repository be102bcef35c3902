// Errors as values: every fallible function of ours returns Result<T> (std::expected over Error).
// Exceptions from third-party code are caught in the adapter that calls it. Programming errors use
// BINDER_ASSERT, never Result.
#pragma once

#include <cstdlib>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace binder::common {

enum class Errc {
  invalid_config,  // bad profile or metadata: exit 2
  usage,           // bad command line: exit 2
  not_found,
  io,
  external_tool,  // a program we ran failed
  network,
  checksum,       // a download or file does not match its sha256
  corrupt_state,  // a cache entry or journal we cannot trust
  precondition,
  temporary,    // retry later (firstboot exit 75)
  interrupted,  // SIGINT/SIGTERM: exit 130
  internal,
};

// 1-based position in a source file (YAML profile, metadata).
struct SourceLoc {
  std::string path;
  int line = 0;
  int col = 0;
  std::string to_string() const { return line > 0 ? fmt::format("{}:{}:{}", path, line, col) : path; }
};

struct Error {
  Errc code = Errc::internal;
  std::string message;               // lowercase start, no trailing period
  std::optional<SourceLoc> where;    // set for config diagnostics
  std::vector<std::string> context;  // "building layer 'k3s'", innermost first
  // Optional: what the user should do about it, one line ("the token needs Zone.DNS:Edit on zone
  // 'mybinder.org'"); not part of to_string(). firstboot journals it and shows it on the console.
  std::string hint;

  // "ctx-outer: ctx-inner: message"
  std::string to_string() const;
  // Adds what was being done when the error happened; returns *this for chaining.
  Error& with_context(std::string what) {
    context.push_back(std::move(what));
    return *this;
  }
  Error& with_hint(std::string what_to_do) {
    hint = std::move(what_to_do);
    return *this;
  }
};

template <typename T = void>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> make_error(Errc code, std::string message) {
  return std::unexpected(Error{code, std::move(message), std::nullopt, {}});
}

template <typename... Args>
std::unexpected<Error> fail(Errc code, fmt::format_string<Args...> f, Args&&... args) {
  return make_error(code, fmt::format(f, std::forward<Args>(args)...));
}

// Exit code for an error per the project's convention (0 ok, 1 failed, 2 config/usage, 70
// internal, 75 temporary, 130 interrupted).
int exit_code_for(const Error& e);

inline std::string Error::to_string() const {
  std::string out;
  for (auto it = context.rbegin(); it != context.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  if (where) {
    out = where->to_string() + ": " + out;
  }
  out += message;
  return out;
}

inline int exit_code_for(const Error& e) {
  switch (e.code) {
    case Errc::invalid_config:
    case Errc::usage:
      return 2;
    case Errc::temporary:
      return 75;
    case Errc::interrupted:
      return 130;
    case Errc::internal:
      return 70;
    default:
      return 1;
  }
}

}  // namespace binder::common

// Propagate an error: TRY(expr) for Result<void>, TRY_ASSIGN(auto x, expr) for values.
#define BINDER_CONCAT_(a, b) a##b
#define BINDER_CONCAT(a, b) BINDER_CONCAT_(a, b)
// The temporaries carry __LINE__ so a TRY inside a lambda inside a TRY does not shadow (-Wshadow).
#define TRY_IMPL_(r, expr)               \
  do {                                   \
    auto&& r = (expr);                   \
    if (!r) {                            \
      return std::unexpected(r.error()); \
    }                                    \
  } while (0)
#define TRY(expr) TRY_IMPL_(BINDER_CONCAT(binder_try_r_, __LINE__), expr)
#define TRY_ASSIGN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                      \
  if (!tmp) {                             \
    return std::unexpected(tmp.error());  \
  }                                       \
  decl = std::move(*tmp)
#define TRY_ASSIGN(decl, expr) TRY_ASSIGN_IMPL_(BINDER_CONCAT(binder_tmp_, __LINE__), decl, expr)
// TRY with context: TRY_CTX(expr, "uploading '{}'", path)
#define TRY_CTX_IMPL_(r, e, expr, ...)          \
  do {                                          \
    auto&& r = (expr);                          \
    if (!r) {                                   \
      auto e = r.error();                       \
      e.with_context(fmt::format(__VA_ARGS__)); \
      return std::unexpected(std::move(e));     \
    }                                           \
  } while (0)
#define TRY_CTX(expr, ...) \
  TRY_CTX_IMPL_(BINDER_CONCAT(binder_try_r_, __LINE__), BINDER_CONCAT(binder_e_, __LINE__), expr, __VA_ARGS__)

#define BINDER_ASSERT(cond)                                                                              \
  do {                                                                                                   \
    if (!(cond)) {                                                                                       \
      fmt::print(stderr, "internal error: assertion '{}' failed at {}:{}\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                                      \
    }                                                                                                    \
  } while (0)
