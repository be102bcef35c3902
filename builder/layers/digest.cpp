// See digest.hpp.
#include "layers/digest.hpp"

#include <charconv>
#include <set>

namespace binder::layers {
namespace {

std::map<std::string, std::string> settings_lines(std::string_view text) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.empty()) {
      continue;
    }
    std::size_t eq = line.find('=');
    out[std::string(line.substr(0, eq))] =
        eq == std::string_view::npos ? "" : std::string(line.substr(eq + 1));
  }
  return out;
}

std::string field_label(const std::string& name) {
  if (name.starts_with("file:")) {
    return fmt::format("file '{}'", name.substr(5));
  }
  if (name.starts_with("input:")) {
    return fmt::format("input '{}'", name.substr(6));
  }
  return fmt::format("'{}'", name);
}

}  // namespace

common::hash::Transcript begin_transcript(std::string_view kind, std::string_view parent,
                                          std::string_view canonical_settings, int step_version) {
  common::hash::Transcript t;
  t.add("format", "layer-v1");
  t.add("abi", fmt::format("{}.{}", k_layer_abi, step_version));
  t.add("kind", kind);
  t.add("parent", parent);
  t.add("settings", canonical_settings);
  return t;
}

Result<void> add_tar_entries(common::hash::Transcript& t, const image::TarBuilder& tar,
                             const KnownHashes& known) {
  for (const image::TarEntry* e : tar.entries()) {
    std::string value;
    switch (e->type) {
      case image::TarEntry::Type::symlink:
        value = fmt::format("symlink -> {}", e->link_target);
        break;
      case image::TarEntry::Type::dir:
        value = fmt::format("dir {:04o} {}:{}", e->mode, e->uid, e->gid);
        break;
      case image::TarEntry::Type::file: {
        std::string sha;
        if (e->host_path.empty()) {
          sha = common::hash::sha256_hex(e->data);
        } else if (auto it = known.find(e->host_path); it != known.end()) {
          sha = it->second;
        } else {
          TRY_ASSIGN(sha, common::hash::sha256_file(e->host_path));
        }
        value = fmt::format("file {:04o} {}:{} sha256={}", e->mode, e->uid, e->gid, sha);
        break;
      }
    }
    t.add("file:" + e->path, value);
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> parse_transcript(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eq = text.find('=', pos);
    if (eq == std::string_view::npos) {
      break;
    }
    std::size_t colon = text.find(':', eq);
    if (colon == std::string_view::npos) {
      break;
    }
    std::size_t len = 0;
    auto [p, ec] = std::from_chars(text.data() + eq + 1, text.data() + colon, len);
    if (ec != std::errc{} || p != text.data() + colon || colon + 1 + len > text.size()) {
      break;
    }
    out.emplace_back(std::string(text.substr(pos, eq - pos)), std::string(text.substr(colon + 1, len)));
    pos = colon + 1 + len + 1;  // value, then '\n'
  }
  return out;
}

std::vector<std::string> explain_difference(std::string_view before, std::string_view now, std::size_t max) {
  std::map<std::string, std::string> a, b;
  std::vector<std::string> order;
  for (auto& [k, v] : parse_transcript(before)) {
    a[k] = v;
  }
  for (auto& [k, v] : parse_transcript(now)) {
    order.push_back(k);
    b[k] = v;
  }
  for (const auto& [k, v] : a) {
    if (!b.contains(k)) {
      order.push_back(k);
    }
  }
  std::vector<std::string> out;
  for (const auto& name : order) {
    bool in_a = a.contains(name), in_b = b.contains(name);
    if (in_a && in_b && a[name] == b[name]) {
      continue;
    }
    if (name == "parent") {
      out.push_back("parent layer changed");
    } else if (name == "abi") {
      out.push_back(fmt::format("layer ABI changed ({} -> {})", a[name], b[name]));
    } else if (name == "settings") {
      auto sa = settings_lines(a[name]), sb = settings_lines(b[name]);
      std::set<std::string> keys;
      for (auto& [k, v] : sa)
        keys.insert(k);
      for (auto& [k, v] : sb)
        keys.insert(k);
      for (const auto& k : keys) {
        if (!sb.contains(k)) {
          out.push_back(fmt::format("setting '{}' removed (was '{}')", k, sa[k]));
        } else if (!sa.contains(k)) {
          out.push_back(fmt::format("setting '{}' added: '{}'", k, sb[k]));
        } else if (sa[k] != sb[k]) {
          out.push_back(fmt::format("setting '{}': '{}' -> '{}'", k, sa[k], sb[k]));
        }
      }
    } else if (!in_a) {
      out.push_back(field_label(name) + " added");
    } else if (!in_b) {
      out.push_back(field_label(name) + " removed");
    } else {
      out.push_back(field_label(name) + " changed");
    }
  }
  if (out.size() > max) {
    std::size_t more = out.size() - (max - 1);
    out.resize(max - 1);
    out.push_back(fmt::format("... and {} more differences", more));
  }
  return out;
}

}  // namespace binder::layers
