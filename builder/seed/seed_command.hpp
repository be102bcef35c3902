// The `binder-image seed` and `binder-image member-data` verbs minus flag parsing: the CLI fills
// a SeedCommand from its flags and calls these, so the verbs stay three lines each.
//   binder-image member-data MEMBER [--ca PEM] [--write-file GUEST=HOST[:MODE]]...
//   binder-image seed MEMBER --output OUT.iso [--ca PEM] [--write-file GUEST=HOST[:MODE]]...
//                     [--network-config FILE] [--instance-id ID] [--hostname NAME]
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seed/seed.hpp"

namespace binder::seed {

struct SeedCommand {
  std::filesystem::path member;                         // the member file (required)
  std::filesystem::path output;                         // seed: the ISO to write
  std::optional<std::filesystem::path> ca;              // PEM file to trust in the guest
  std::vector<std::string> write_files;                 // "GUEST_PATH=HOST_FILE[:MODE]"
  std::optional<std::filesystem::path> network_config;  // copied verbatim
  std::string instance_id;                              // default "binder-<name>"
  std::string hostname;                                 // default: the member's name
  std::optional<std::int64_t> source_date_epoch;        // ISO entry times; nullopt: now
};

// Parses "GUEST_PATH=HOST_FILE[:MODE]" and reads HOST_FILE. Errors: Errc::usage for a malformed
// spec (relative guest path, mode not 3-4 octal digits), the read error for the file.
Result<WriteFile> parse_write_file(std::string_view spec);

// The user-data text for `member-data` (stdout). Errors as member_data(), plus unreadable --ca
// or --write-file inputs.
Result<std::string> run_member_data(const SeedCommand& cmd);

// Writes the seed ISO for `seed`; returns a one-line summary for the log
// ("wrote 'out.iso' (cidata: user-data 2.1 KiB, meta-data, network-config)").
Result<std::string> run_seed(const SeedCommand& cmd);

}  // namespace binder::seed
