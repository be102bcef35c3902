// Packaging the mybinder chart as `chartpress` + `helm dependency build` + `helm package` would:
// the chart directory's files minus .helmignore matches and minus git-crypt ciphertext (files
// starting with "\0GITCRYPT\0": central CD decrypts them, an image never can), chartpress pins
// applied, `charts/<name>-<version>.tgz` for every dependency, all under the top directory
// `<chart name>/`, written deterministically (tgz.hpp). Checks: no chartpress placeholder left
// in any packaged file, every file under files/ valid UTF-8 (the chart globs them into
// ConfigMaps). Non-logging.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "charts/dependency.hpp"
#include "charts/tgz.hpp"

namespace binder::charts {

// Chart.yaml's dependencies (name, version, repository), in order. Errc::invalid_config naming
// `file` for YAML errors or an entry without name/version/repository.
Result<std::vector<ChartRef>> parse_dependencies(std::string_view chart_yaml, std::string_view file);

// True when `data` is git-crypt ciphertext.
bool is_git_crypt(std::string_view data);
// True when `data` is valid UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool is_utf8(std::string_view data);

// .helmignore rules (shell globs; a trailing '/' matches directories; a pattern with '/'
// matches the relative path, one without matches any path component; '!' negates).
class HelmIgnore {
 public:
  explicit HelmIgnore(std::string_view text);
  bool ignored(const std::string& rel_path) const;

 private:
  struct Rule {
    std::string pattern;
    bool negate = false;
    bool dir_only = false;
  };
  std::vector<Rule> m_rules;
};

struct PackageInput {
  std::string chart_name = "mybinder";
  std::vector<ArchiveFile> files;             // relative to the chart directory
  std::string version;                        // pinned chart version
  std::map<std::string, std::string> images;  // values path -> repo:tag
  std::vector<ResolvedChart> dependencies;
  std::int64_t mtime = 0;
};

struct Packaged {
  std::string file_name;  // "<chart>-<version>.tgz"
  std::string tgz;
  std::vector<std::string> excluded_files;  // chart-relative paths left out as ciphertext
  std::string values_yaml;                  // values.yaml as packaged (pinned)
};

Result<Packaged> package_chart(const PackageInput& in);

}  // namespace binder::charts
