// Ext4Fs::glob (see ext4.hpp): the shell's glob over a filesystem read on the host.
#include <fnmatch.h>

#include "image/ext4.hpp"

namespace binder::image {

Result<std::vector<std::string>> Ext4Fs::glob(const std::string& pattern) const {
  std::vector<std::string> parts;
  std::size_t pos = 1;
  while (pos <= pattern.size()) {
    std::size_t slash = pattern.find('/', pos);
    parts.push_back(pattern.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos));
    pos = slash == std::string::npos ? pattern.size() + 1 : slash + 1;
  }
  std::vector<std::string> current{""};
  for (const auto& part : parts) {
    std::vector<std::string> next;
    for (const auto& dir : current) {
      if (part.find_first_of("*?[") == std::string::npos) {
        TRY_ASSIGN(auto st, stat(dir + "/" + part));
        if (st) {
          next.push_back(dir + "/" + part);
        }
        continue;
      }
      auto names = list(dir.empty() ? "/" : dir);
      if (!names) {
        continue;  // not a directory: nothing below it matches
      }
      for (const auto& n : *names) {
        if (::fnmatch(part.c_str(), n.c_str(), FNM_PERIOD) == 0) {
          next.push_back(dir + "/" + n);
        }
      }
    }
    current = std::move(next);
  }
  return current;
}

}  // namespace binder::image
