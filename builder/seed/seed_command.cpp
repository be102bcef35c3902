// The seed verbs' work: read the member file and the side inputs named on the command line, build
// the user-data, and (for `seed`) the ISO. Kept out of the CLI so it is tested without a process.
#include "seed/seed_command.hpp"

#include "common/fs.hpp"

namespace binder::seed {

namespace {

using common::Errc;
using common::fail;

bool is_octal_mode(std::string_view m) {
  if (m.size() < 3 || m.size() > 4) {
    return false;
  }
  for (char c : m) {
    if (c < '0' || c > '7') {
      return false;
    }
  }
  return true;
}

Result<MemberDataOptions> options_for(const SeedCommand& cmd) {
  MemberDataOptions o;
  if (cmd.ca) {
    TRY_ASSIGN(std::string pem, common::fs::read_file(*cmd.ca));
    if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return fail(Errc::usage, "--ca '{}' is not a PEM certificate", cmd.ca->string());
    }
    o.ca_cert_pem = std::move(pem);
  }
  for (const std::string& spec : cmd.write_files) {
    TRY_ASSIGN(WriteFile f, parse_write_file(spec));
    o.write_files.push_back(std::move(f));
  }
  return o;
}

std::string kib(std::size_t n) { return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024); }

}  // namespace

Result<WriteFile> parse_write_file(std::string_view spec) {
  auto eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0 || spec[0] != '/') {
    return fail(Errc::usage,
                "--write-file '{}': expected GUEST_PATH=HOST_FILE[:MODE] with an "
                "absolute guest path",
                spec);
  }
  WriteFile f;
  f.path = std::string(spec.substr(0, eq));
  std::string_view host = spec.substr(eq + 1);
  if (auto colon = host.rfind(':');
      colon != std::string_view::npos && is_octal_mode(host.substr(colon + 1))) {
    f.permissions = std::string(host.substr(colon + 1));
    if (f.permissions.size() == 3) {
      f.permissions = std::string("0") + f.permissions;
    }
    host = host.substr(0, colon);
  }
  if (host.empty()) {
    return fail(Errc::usage, "--write-file '{}': no host file", spec);
  }
  TRY_ASSIGN(f.content, common::fs::read_file(std::filesystem::path(host)));
  return f;
}

Result<std::string> run_member_data(const SeedCommand& cmd) {
  TRY_ASSIGN(MemberDataOptions o, options_for(cmd));
  return member_data(cmd.member, o);
}

Result<std::string> run_seed(const SeedCommand& cmd) {
  if (cmd.output.empty()) {
    return fail(Errc::usage, "seed: --output FILE is required");
  }
  TRY_ASSIGN(MemberDataOptions o, options_for(cmd));
  TRY_ASSIGN(std::string name, member_name(cmd.member));
  SeedContent content;
  TRY_ASSIGN(content.user_data, member_data(cmd.member, o));
  content.meta_data = meta_data(cmd.instance_id.empty() ? "binder-" + name : cmd.instance_id,
                                cmd.hostname.empty() ? name : cmd.hostname);
  if (cmd.network_config) {
    TRY_ASSIGN(std::string net, common::fs::read_file(*cmd.network_config));
    content.network_config = std::move(net);
  }
  TRY(write_seed_iso(content, cmd.output, cmd.source_date_epoch));
  return fmt::format("wrote '{}' (cidata: user-data {}, meta-data{})", cmd.output.string(),
                     kib(content.user_data.size()), content.network_config ? ", network-config" : "");
}

}  // namespace binder::seed
