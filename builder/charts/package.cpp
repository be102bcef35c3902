// See package.hpp.
#include "charts/package.hpp"

#include <fnmatch.h>

#include <algorithm>

#include <yaml-cpp/yaml.h>

#include "charts/chartpress.hpp"

namespace binder::charts {
namespace {

using common::Errc;
using common::fail;

constexpr std::string_view k_git_crypt = std::string_view("\0GITCRYPT\0", 10);

}  // namespace

Result<std::vector<ChartRef>> parse_dependencies(std::string_view chart_yaml, std::string_view file) {
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(chart_yaml));
  } catch (const YAML::Exception& e) {
    return fail(Errc::invalid_config, "{}: not valid YAML: {}", file, e.what());
  }
  std::vector<ChartRef> out;
  YAML::Node deps = doc.IsMap() ? doc["dependencies"] : YAML::Node();
  if (!deps) {
    return out;
  }
  if (!deps.IsSequence()) {
    return fail(Errc::invalid_config, "{}: 'dependencies' is not a list", file);
  }
  for (std::size_t i = 0; i < deps.size(); ++i) {
    const YAML::Node d = deps[i];
    ChartRef r;
    if (d.IsMap()) {
      r.name = d["name"] ? d["name"].as<std::string>("") : "";
      r.version = d["version"] ? d["version"].as<std::string>("") : "";
      r.repository = d["repository"] ? d["repository"].as<std::string>("") : "";
    }
    if (r.name.empty() || r.version.empty() || r.repository.empty()) {
      return fail(Errc::invalid_config, "{}: dependencies[{}] needs name, version and repository", file, i);
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool is_git_crypt(std::string_view data) { return data.starts_with(k_git_crypt); }

bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t k_min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < k_min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

HelmIgnore::HelmIgnore(std::string_view text) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string line(text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r'))
      line.pop_back();
    if (line.empty() || line.front() == '#') {
      continue;
    }
    Rule r;
    if (line.front() == '!') {
      r.negate = true;
      line.erase(0, 1);
    }
    if (line.starts_with("./")) {
      line.erase(0, 2);
    }
    if (line.ends_with('/')) {
      r.dir_only = true;
      line.pop_back();
    }
    r.pattern = line;
    if (!r.pattern.empty()) {
      m_rules.push_back(std::move(r));
    }
  }
}

bool HelmIgnore::ignored(const std::string& rel) const {
  // Components: a file "a/b/c" has directories "a", "a/b" and the file "a/b/c".
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto slash = rel.find('/', start);
    parts.push_back(rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  bool ignored = false;
  for (const auto& r : m_rules) {
    bool match = false;
    std::string prefix;
    for (std::size_t i = 0; i < parts.size() && !match; ++i) {
      prefix += (i ? "/" : "") + parts[i];
      bool is_dir = i + 1 < parts.size();
      if (r.dir_only && !is_dir) {
        continue;
      }
      bool has_slash = r.pattern.find('/') != std::string::npos;
      const std::string& subject = has_slash ? prefix : parts[i];
      match = ::fnmatch(r.pattern.c_str(), subject.c_str(), 0) == 0;
    }
    if (match) {
      ignored = !r.negate;
    }
  }
  return ignored;
}

Result<Packaged> package_chart(const PackageInput& in) {
  Packaged out;
  out.file_name = fmt::format("{}-{}.tgz", in.chart_name, in.version);
  std::string ignore_text;
  for (const auto& f : in.files) {
    if (f.path == ".helmignore")
      ignore_text = f.data;
  }
  HelmIgnore ignore(ignore_text);
  std::vector<ArchiveFile> files;
  bool have_chart = false;
  bool have_values = false;
  for (const auto& f : in.files) {
    if (f.path.starts_with("charts/") || f.path == "Chart.lock" || ignore.ignored(f.path)) {
      continue;  // dependencies come from the resolution below, never from the source tree
    }
    std::string where = fmt::format("{}/{}", in.chart_name, f.path);
    if (is_git_crypt(f.data)) {
      out.excluded_files.push_back(f.path);
      continue;
    }
    ArchiveFile a{in.chart_name + "/" + f.path, f.data, f.mode};
    if (f.path == "Chart.yaml") {
      TRY_ASSIGN(a.data, pin_chart_version(f.data, where, in.version));
      have_chart = true;
    } else if (f.path == "values.yaml") {
      TRY_ASSIGN(a.data, pin_values_images(f.data, where, in.images));
      out.values_yaml = a.data;
      have_values = true;
    }
    if (has_chartpress_placeholder(a.data)) {
      return fail(Errc::invalid_config,
                  "{}: still holds a chartpress placeholder (set-by-chartpress) after pinning; pin "
                  "it in charts.mybinder.images",
                  where);
    }
    if (f.path.starts_with("files/") && !is_utf8(a.data)) {
      return fail(Errc::invalid_config, "{}: not valid UTF-8 (the chart renders files/ into ConfigMaps)",
                  where);
    }
    files.push_back(std::move(a));
  }
  if (!have_chart || !have_values) {
    return fail(Errc::invalid_config, "chart '{}': the source has no {}", in.chart_name,
                have_chart ? "values.yaml" : "Chart.yaml");
  }
  for (const auto& d : in.dependencies) {
    files.push_back(ArchiveFile{fmt::format("{}/charts/{}-{}.tgz", in.chart_name, d.ref.name, d.ref.version),
                                d.bytes, 0644});
  }
  std::sort(out.excluded_files.begin(), out.excluded_files.end());
  TRY_ASSIGN(out.tgz, write_tgz(std::move(files), in.mtime));
  return out;
}

}  // namespace binder::charts
