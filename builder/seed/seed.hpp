// NoCloud seeds: the user-data a donor pastes into a cloud console (`binder-image member-data`)
// and the `cidata` ISO that QEMU or a hypervisor attaches as a drive (`binder-image seed`).
// cloud-init's NoCloud datasource finds a filesystem labelled `cidata` holding `user-data`,
// `meta-data` and optionally `network-config`. The member document travels in user-data under
// the key `binder_member`, where binder-firstboot reads it (DESIGN.md section 5).
// Non-logging; no global state; safe to call from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace binder::seed {

using common::Result;

// The three files of a NoCloud seed, verbatim.
struct SeedContent {
  std::string user_data;                      // "#cloud-config\n..." (or any cloud-init format)
  std::string meta_data;                      // "instance-id: ...\nlocal-hostname: ...\n"
  std::optional<std::string> network_config;  // netplan v2 / v1 YAML; absent = DHCP default
};

// Writes `content` as an ISO9660 image (volume id `cidata`, Rock Ridge and Joliet names) to
// `out`, atomically: a temp file beside `out` renamed into place only when complete. On failure
// `out` is untouched (an older file stays) and no temp file is left. Parent dirs must exist.
// Entry times are `source_date_epoch` (common::BuildDate), else now.
Result<void> write_seed_iso(const SeedContent& content, const std::filesystem::path& out,
                            std::optional<std::int64_t> source_date_epoch = std::nullopt);

// Reads a seed ISO back (libarchive's reader): the inverse of write_seed_iso. Errors: not
// readable as ISO9660, or user-data/meta-data missing (Errc::corrupt_state).
Result<SeedContent> read_seed_iso(const std::filesystem::path& iso);

// A file cloud-init writes early (`write_files`), e.g. the smoke boot's fake endpoints file.
struct WriteFile {
  std::string path;  // absolute path in the guest
  std::string content;
  std::string permissions = "0644";  // octal string, as cloud-init expects
  bool append = false;               // append to an existing file instead of replacing it
};

// How an extra CA becomes trusted in the guest.
enum class CaInstall {
  // write_files: the PEM appended to /etc/ssl/certs/ca-certificates.crt (what OpenSSL, Python and
  // curl read) and kept in /usr/local/share/ca-certificates/ so later update-ca-certificates
  // runs keep it. Immediate; the default.
  append_bundle,
  // cloud-init `ca_certs: trusted:` (runs update-ca-certificates: measured ~150 s under TCG).
  ca_certs_module,
};

// What member_data() adds around the member document.
struct MemberDataOptions {
  // PEM of a CA to trust system-wide; tests use their own CA for the fake API servers.
  std::optional<std::string> ca_cert_pem;
  CaInstall ca_install = CaInstall::append_bundle;
  std::vector<WriteFile> write_files;
  std::vector<std::string> runcmd;  // extra shell commands (cloud-init runcmd), in order
};

// Turns a member file into `#cloud-config` user-data: `binder_member:` holding the document,
// `locale: C.UTF-8` (images may lack the locales package), `ssh_genkeytypes: [ed25519]` (fast;
// RSA generation takes up to 30 s under TCG), plus the options above (the CA's write_files come
// before the caller's). The file may hold the
// document itself or a mapping with the single key `binder_member`. Errors: unreadable file
// (Errc::io / not_found), YAML syntax or a document that is not a mapping with a string `name`
// (Errc::invalid_config, message starts with `path:line:col:`). Field-level validation is the
// agent's (binder-firstboot plan); this only packages. The result holds the member's secrets:
// callers writing it to disk use mode 0600.
Result<std::string> member_data(const std::filesystem::path& member_yaml,
                                const MemberDataOptions& options = {});
// Same from text; `source` names it in error messages.
Result<std::string> member_data_from_text(std::string_view yaml, std::string_view source,
                                          const MemberDataOptions& options = {});

// "instance-id: <id>\nlocal-hostname: <hostname>\n". A new instance id makes cloud-init run its
// per-instance modules again; reuse it when booting the same VM twice.
std::string meta_data(std::string_view instance_id, std::string_view hostname);

// The member's `name` from a member file (for the default hostname and instance id).
Result<std::string> member_name(const std::filesystem::path& member_yaml);

}  // namespace binder::seed
