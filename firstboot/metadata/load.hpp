// Gathering the member metadata from its sources, later wins (DESIGN.md §5):
//   1. baked   /etc/binder-image/member.yaml (wrapper key `binder_member:` optional)
//   2. cloud-init user-data key `binder_member`, the first of:
//        /run/cloud-init/combined-cloud-config.json   (cloud-init >= 23.4, root only)
//        /var/lib/cloud/instance/cloud-config.txt     (cloud-config parts of the user-data)
//        /run/cloud-init/instance-data-sensitive.json, instance-data.json merged_cfg (older
//          cloud-init; newer ones redact it or hold only the system config there)
//        /var/lib/cloud/instance/user-data.txt        (raw, when it is a #cloud-config)
//        NoCloud seed /var/lib/cloud/seed/nocloud{,-net}/user-data,
//        ConfigDrive seed /var/lib/cloud/seed/config_drive/openstack/latest/user_data,
//        live only: a filesystem labelled cidata/CIDATA (NoCloud) or config-2 (ConfigDrive),
//        mounted read-only for the read.
//      cloud-init's own results come first: they reflect what the datasource really delivered;
//      the seeds are the fallback when cloud-init did not run (yet).
//   3. overrides /etc/binder-image/member.d/*.yaml, sorted by name.
// Deep merge (source_doc.hpp), then validation (validate.hpp). Every secret of every source is
// registered with log::add_secret as soon as it is parsed. All paths are under `root`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "firstboot/env.hpp"
#include "firstboot/metadata/member.hpp"
#include "firstboot/metadata/source_doc.hpp"

namespace binder::firstboot {

struct LoadedMember {
  Member member;
  std::vector<std::string> sources;  // origins that contributed, in merge order
};

struct LoadOptions {
  std::filesystem::path root = "/";
  // --metadata FILE (testing, render): the only source.
  std::optional<std::filesystem::path> metadata_file;
  bool live = false;  // may probe and mount labelled seed devices (root == "/")
};

// Errc::invalid_config when no source has a binder_member document, a source is not valid
// YAML/JSON, or validation fails (all diagnostics in the message).
Result<LoadedMember> load_member(const LoadOptions& options, CommandRunner& runner);

// The cloud-init part alone (nullopt when nothing is found). Exposed for tests.
Result<std::optional<SourceDoc>> read_cloud_init_member(const LoadOptions& options, CommandRunner& runner);

// Writes member.to_json() to /var/lib/binder-firstboot/member.json under root (0600).
Result<void> save_member_json(const std::filesystem::path& root, const Member& member);

// Registers every string under the known secret key paths of a raw document.
void register_doc_secrets(const SourceDoc& doc);

}  // namespace binder::firstboot
