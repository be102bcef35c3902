// Verbs for donors and tests: member-data (user-data to paste into a cloud console) and seed
// (a NoCloud cidata ISO). The work is builder/seed's.
#include <nlohmann/json.hpp>

#include "cli/verbs.hpp"
#include "common/build_date.hpp"
#include "common/fs.hpp"
#include "seed/seed.hpp"

namespace binder::cli {
namespace {

using common::Errc;
using common::fail;

Result<seed::MemberDataOptions> member_options(const Args& a) {
  seed::MemberDataOptions o;
  if (auto ca = a.value("--ca")) {
    TRY_ASSIGN(std::string pem, common::fs::read_file(*ca));
    o.ca_cert_pem = pem;
  }
  for (const auto& wf : a.values("--write-file")) {
    // GUEST_PATH=HOST_FILE[:MODE]
    auto eq = wf.find('=');
    if (eq == std::string::npos || wf[0] != '/') {
      return fail(Errc::usage, "--write-file '{}': expected GUEST_PATH=HOST_FILE[:MODE]", wf);
    }
    std::string host = wf.substr(eq + 1);
    std::string mode = "0644";
    if (auto colon = host.rfind(':');
        colon != std::string::npos && host.find_first_not_of("01234567", colon + 1) == std::string::npos) {
      mode = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
    TRY_ASSIGN(std::string content, common::fs::read_file(host));
    o.write_files.push_back(seed::WriteFile{wf.substr(0, eq), content, mode});
  }
  return o;
}

Result<int> run_member_data(const Args& a) {
  TRY_ASSIGN(seed::MemberDataOptions o, member_options(a));
  TRY_ASSIGN(std::string text, seed::member_data(a.positionals().at(0), o));
  fmt::print(stdout, "{}", text);
  return 0;
}

Result<int> run_seed(const Args& a) {
  auto out = a.value("-o");
  if (!out) {
    out = a.value("--output");
  }
  if (!out) {
    return fail(Errc::usage, "'seed' needs -o OUT.iso");
  }
  std::filesystem::path member = a.positionals().at(0);
  TRY_ASSIGN(seed::MemberDataOptions o, member_options(a));
  seed::SeedContent content;
  TRY_ASSIGN(content.user_data, seed::member_data(member, o));
  TRY_ASSIGN(std::string name, seed::member_name(member));
  content.meta_data = seed::meta_data(a.value("--instance-id").value_or("binder-" + name), name);
  if (auto nc = a.value("--network-config")) {
    TRY_ASSIGN(std::string text, common::fs::read_file(*nc));
    content.network_config = text;
  }
  TRY_ASSIGN(common::BuildDate date, common::build_date_from_env());
  TRY(seed::write_seed_iso(content, *out, date.source_date_epoch));
  fmt::print(stdout, "{}\n", *out);
  return 0;
}

const std::vector<OptionSpec> k_member_opts{
    {"--ca", "PEM", "a CA certificate the VM trusts (tests)"},
    {"--write-file", "GUEST_PATH=HOST_FILE[:MODE]", "a file cloud-init writes (repeatable)", true},
};

}  // namespace

std::vector<Verb> seed_verbs() {
  std::vector<OptionSpec> seed_opts = k_member_opts;
  seed_opts.push_back({"-o", "OUT.iso", "the ISO to write"});
  seed_opts.push_back({"--output", "OUT.iso", "same as -o"});
  seed_opts.push_back({"--network-config", "FILE", "NoCloud network-config"});
  seed_opts.push_back({"--instance-id", "ID", "cloud-init instance id (default binder-NAME)"});
  return {
      Verb{"member-data", "MEMBER.yaml [options]",
           "Prints #cloud-config user-data carrying the member metadata (binder_member), to paste "
           "into a cloud console when creating the VM. It holds secrets: store it 0600.",
           k_member_opts, 1, 1, run_member_data},
      Verb{"seed", "MEMBER.yaml -o OUT.iso [options]",
           "Writes a NoCloud seed ISO (volume cidata) with the member's user-data and meta-data, "
           "to attach to a VM as a drive.",
           seed_opts, 1, 1, run_seed},
  };
}

}  // namespace binder::cli
