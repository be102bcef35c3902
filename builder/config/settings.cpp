// The settings table assembled from its groups, lookups over it, and the enum names.
#include "config/settings.hpp"

#include "common/spellcheck.hpp"
#include "config/settings_internal.hpp"

namespace binder::config {

std::string_view to_string(LayerKind k) {
  switch (k) {
    case LayerKind::base:
      return "base";
    case LayerKind::system:
      return "system";
    case LayerKind::final:
      return "final";
    case LayerKind::export_:
      return "export";
    case LayerKind::none:
      return "none";
    case LayerKind::charts:
      return "charts";
  }
  return "?";
}

std::string_view to_string(BaseKind k) {
  switch (k) {
    case BaseKind::image:
      return "image";
    case BaseKind::url:
      return "url";
    case BaseKind::file:
      return "file";
    case BaseKind::rootfs:
      return "rootfs";
  }
  return "?";
}

std::string_view to_string(Format f) {
  static constexpr std::string_view k_names[] = {"qcow2", "raw", "vmdk", "ova", "vhd", "gcp-tar"};
  return k_names[static_cast<int>(f)];
}

std::string_view to_string(Compression c) {
  static constexpr std::string_view k_names[] = {"none", "zstd", "zlib", "xz", "gzip"};
  return k_names[static_cast<int>(c)];
}

std::string_view to_string(ValueKind k) {
  switch (k) {
    case ValueKind::section:
      return "mapping";
    case ValueKind::string:
      return "string";
    case ValueKind::boolean:
      return "boolean";
    case ValueKind::integer:
      return "integer";
    case ValueKind::number:
      return "number";
    case ValueKind::size:
      return "size";
    case ValueKind::enumeration:
      return "enum";
    case ValueKind::path:
      return "path";
    case ValueKind::url:
      return "URL";
    case ValueKind::url_or_path:
      return "URL or path";
    case ValueKind::string_list:
      return "list of strings";
    case ValueKind::string_map:
      return "mapping of strings";
    case ValueKind::list:
      return "list of mappings";
    case ValueKind::extends:
      return "path or list of paths";
  }
  return "?";
}

std::string Artifact::basename() const {
  std::string s = is_url() ? url.value : file.value.string();
  auto q = s.find_first_of("?#");
  if (q != std::string::npos) {
    s.resize(q);
  }
  auto slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

const std::vector<SettingSpec>& settings() {
  static const std::vector<SettingSpec> k_table = [] {
    std::vector<SettingSpec> t;
    detail::add_general_settings(t);
    detail::add_k3s_settings(t);
    detail::add_k3s_upgrade_settings(t);
    detail::add_system_settings(t);
    detail::add_charts_settings(t);
    detail::add_final_settings(t);
    return t;
  }();
  return k_table;
}

const SettingSpec* find_setting(std::string_view key) {
  for (const SettingSpec& s : settings()) {
    if (s.key == key) {
      return &s;
    }
  }
  return nullptr;
}

std::vector<std::string> setting_keys() {
  std::vector<std::string> out;
  for (const SettingSpec& s : settings()) {
    out.emplace_back(s.key);
  }
  return out;
}

Result<void> apply_override(std::vector<std::string>& overrides, std::string_view assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return common::fail(common::Errc::usage, "invalid --set '{}': expected key.path=value", assignment);
  }
  std::string key(assignment.substr(0, eq));
  // sysctls.<name> takes any name; x- keys are free.
  bool ok = find_setting(key) != nullptr || key.starts_with("sysctls.") || key.starts_with("x-");
  if (!ok) {
    std::string msg = fmt::format("unknown setting '{}' in --set", key);
    if (auto s = common::suggest(key, setting_keys())) {
      msg += fmt::format(", did you mean '{}'?", *s);
    }
    return common::make_error(common::Errc::usage, msg);
  }
  overrides.emplace_back(assignment);
  return {};
}

}  // namespace binder::config
