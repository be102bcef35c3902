// Metadata sources and their order. See load.hpp.
#include "firstboot/metadata/load.hpp"

#include <algorithm>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/yaml_guard.hpp"
#include "firstboot/metadata/validate.hpp"

namespace binder::firstboot {
namespace {

namespace fs = common::fs;
using nlohmann::json;

std::filesystem::path under_root(const std::filesystem::path& root, std::string_view abs) {
  while (!abs.empty() && abs.front() == '/') {
    abs.remove_prefix(1);
  }
  return root / abs;
}

// A member file: `binder_member:` wrapper optional.
Result<std::optional<SourceDoc>> read_member_file(const std::filesystem::path& path) {
  TRY_ASSIGN(auto text, common::read_yaml_file(path));  // bounded: common/yaml_guard.hpp
  if (!text) {
    return std::optional<SourceDoc>{};
  }
  TRY_ASSIGN(SourceDoc doc, parse_yaml_doc(*text, path.string()));
  if (doc.value.is_object() && doc.value.contains("binder_member")) {
    if (doc.value.size() != 1) {
      for (auto& [k, _] : doc.value.items()) {
        if (k != "binder_member") {
          auto loc = doc.where(k);
          return common::fail(Errc::invalid_config,
                              "{}: error: unknown top-level key '{}' next to 'binder_member'",
                              loc.to_string(), k);
        }
      }
    }
    return sub_document(doc, "binder_member");
  }
  return std::optional<SourceDoc>(std::move(doc));
}

// A cloud-config text: the member is under `binder_member`; other keys belong to cloud-init.
Result<std::optional<SourceDoc>> member_from_cloud_config(std::string_view text, std::string origin) {
  std::string_view t = text;
  if (t.starts_with("## template: jinja")) {
    return std::optional<SourceDoc>{};  // rendered by cloud-init; use its outputs instead
  }
  if (!t.starts_with("#cloud-config")) {
    return std::optional<SourceDoc>{};  // a script or MIME multipart: no member here
  }
  TRY_ASSIGN(SourceDoc doc, parse_yaml_doc(text, std::move(origin)));
  return sub_document(doc, "binder_member");
}

Result<std::optional<SourceDoc>> member_from_json_file(const std::filesystem::path& path,
                                                       const std::vector<std::string>& key_path) {
  TRY_ASSIGN(auto text, fs::read_file_if_exists(path));
  if (!text) {
    return std::optional<SourceDoc>{};
  }
  TRY_ASSIGN(SourceDoc doc, parse_json_doc(*text, path.string()));
  SourceDoc cur = std::move(doc);
  for (const auto& k : key_path) {
    auto sub = sub_document(cur, k);
    if (!sub) {
      return std::optional<SourceDoc>{};
    }
    cur = std::move(*sub);
  }
  if (!cur.value.is_object()) {
    return std::optional<SourceDoc>{};  // e.g. "redacted for non-root user"
  }
  return std::optional<SourceDoc>(std::move(cur));
}

Result<std::optional<SourceDoc>> from_text_file(const std::filesystem::path& path) {
  TRY_ASSIGN(auto text, common::read_yaml_file(path));  // bounded: common/yaml_guard.hpp
  if (!text) {
    return std::optional<SourceDoc>{};
  }
  return member_from_cloud_config(*text, path.string());
}

// Mounts the filesystem labelled `label` read-only and reads `file` from it (live only).
Result<std::optional<SourceDoc>> from_labelled_device(CommandRunner& runner, const std::string& label,
                                                      const std::string& file) {
  auto dev = runner.run({"blkid", "-t", "LABEL=" + label, "-o", "device"});
  if (!dev || dev->exit_code != 0 || dev->out.empty()) {
    return std::optional<SourceDoc>{};
  }
  std::string device = dev->out.substr(0, dev->out.find('\n'));
  TRY_ASSIGN(auto dir, fs::TempDir::create("binder-seed"));
  TRY(runner.run_checked({"mount", "-o", "ro", device, dir.path().string()}));
  auto text = common::read_yaml_file(dir.path() / file);
  (void)runner.run({"umount", dir.path().string()});
  if (!text) {
    return std::unexpected(text.error());
  }
  if (!*text) {
    return std::optional<SourceDoc>{};
  }
  return member_from_cloud_config(**text, fmt::format("{} on '{}' ({})", file, device, label));
}

void add_secret_at(const json& v, std::initializer_list<const char*> path) {
  const json* cur = &v;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) {
      return;
    }
    cur = &cur->at(k);
  }
  if (cur->is_string()) {
    common::log::add_secret(cur->get<std::string>());
  }
}

}  // namespace

void register_doc_secrets(const SourceDoc& doc) {
  add_secret_at(doc.value, {"dns", "api_token"});
  add_secret_at(doc.value, {"registry", "s3", "access_key"});
  add_secret_at(doc.value, {"registry", "s3", "secret_key"});
  add_secret_at(doc.value, {"registry", "password"});
  add_secret_at(doc.value, {"node", "token"});
  add_secret_at(doc.value, {"binderhub", "github_token"});
}

Result<std::optional<SourceDoc>> read_cloud_init_member(const LoadOptions& o, CommandRunner& runner) {
  using Reader = std::function<Result<std::optional<SourceDoc>>()>;
  const auto& root = o.root;
  std::vector<Reader> readers = {
      [&] {
        return member_from_json_file(under_root(root, "/run/cloud-init/combined-cloud-config.json"),
                                     {"binder_member"});
      },
      [&] { return from_text_file(under_root(root, "/var/lib/cloud/instance/cloud-config.txt")); },
      [&] {
        return member_from_json_file(under_root(root, "/run/cloud-init/instance-data-sensitive.json"),
                                     {"merged_cfg", "binder_member"});
      },
      [&] {
        return member_from_json_file(under_root(root, "/run/cloud-init/instance-data.json"),
                                     {"merged_cfg", "binder_member"});
      },
      [&] { return from_text_file(under_root(root, "/var/lib/cloud/instance/user-data.txt")); },
      [&] { return from_text_file(under_root(root, "/var/lib/cloud/seed/nocloud/user-data")); },
      [&] { return from_text_file(under_root(root, "/var/lib/cloud/seed/nocloud-net/user-data")); },
      [&] {
        return from_text_file(
            under_root(root, "/var/lib/cloud/seed/config_drive/openstack/latest/user_data"));
      },
  };
  if (o.live) {
    readers.push_back([&] { return from_labelled_device(runner, "cidata", "user-data"); });
    readers.push_back([&] { return from_labelled_device(runner, "CIDATA", "user-data"); });
    readers.push_back([&] { return from_labelled_device(runner, "config-2", "openstack/latest/user_data"); });
  }
  for (auto& read : readers) {
    TRY_ASSIGN(auto doc, read());
    if (doc) {
      return doc;
    }
  }
  return std::optional<SourceDoc>{};
}

Result<LoadedMember> load_member(const LoadOptions& o, CommandRunner& runner) {
  std::vector<SourceDoc> docs;
  if (o.metadata_file) {
    TRY_ASSIGN(auto doc, read_member_file(*o.metadata_file));
    if (!doc) {
      return common::fail(Errc::invalid_config, "metadata file '{}' does not exist",
                          o.metadata_file->string());
    }
    docs.push_back(std::move(*doc));
  } else {
    TRY_ASSIGN(auto baked, read_member_file(under_root(o.root, "/etc/binder-image/member.yaml")));
    if (baked) {
      docs.push_back(std::move(*baked));
    }
    TRY_ASSIGN(auto ci, read_cloud_init_member(o, runner));
    if (ci) {
      docs.push_back(std::move(*ci));
    }
    std::vector<std::filesystem::path> overrides;
    std::error_code ec;
    for (const auto& e :
         std::filesystem::directory_iterator(under_root(o.root, "/etc/binder-image/member.d"), ec)) {
      if (e.path().extension() == ".yaml" || e.path().extension() == ".yml") {
        overrides.push_back(e.path());
      }
    }
    std::sort(overrides.begin(), overrides.end());
    for (const auto& p : overrides) {
      TRY_ASSIGN(auto doc, read_member_file(p));
      if (doc) {
        docs.push_back(std::move(*doc));
      }
    }
  }
  if (docs.empty()) {
    return common::fail(Errc::invalid_config,
                        "no member metadata found: looked for /etc/binder-image/member.yaml, "
                        "cloud-init user-data key 'binder_member' and /etc/binder-image/member.d/");
  }
  LoadedMember out;
  SourceDoc merged;
  for (const auto& d : docs) {
    register_doc_secrets(d);
    merge_into(merged, d);
    out.sources.push_back(d.origin);
  }
  merged.origin = docs.back().origin;
  TRY_ASSIGN(out.member, member_from_doc(merged));
  for (const auto& [_, v] : out.member.secrets()) {
    common::log::add_secret(v);
  }
  return out;
}

Result<void> save_member_json(const std::filesystem::path& root, const Member& member) {
  return fs::write_file_atomic(under_root(root, "/var/lib/binder-firstboot/member.json"),
                               member.to_json().dump(2) + "\n", 0600);
}

}  // namespace binder::firstboot
