// Converging file helpers. See files.hpp.
#include "firstboot/host/files.hpp"

#include <sys/stat.h>

#include "common/fs.hpp"

namespace binder::firstboot::host {

Result<bool> file_has(const Env& env, std::string_view path, std::string_view content) {
  TRY_ASSIGN(auto cur, common::fs::read_file_if_exists(env.path(path)));
  return cur && *cur == content;
}

Result<Outcome> ensure_file(Env& env, std::string_view path, std::string_view content, mode_t mode) {
  auto p = env.path(path);
  TRY_ASSIGN(bool same, file_has(env, path, content));
  struct stat st {};
  if (same && ::stat(p.c_str(), &st) == 0 && (st.st_mode & 07777) == mode) {
    return Outcome::unchanged;
  }
  TRY(common::fs::write_file_atomic(p, content, mode));
  return Outcome::changed;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      out.emplace_back(text.substr(pos));
      break;
    }
    out.emplace_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    out += l;
    out += '\n';
  }
  return out;
}

std::string trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) {
    return {};
  }
  std::size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace binder::firstboot::host
