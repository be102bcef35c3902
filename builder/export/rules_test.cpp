// Provider rules: every violation is rejected with a message naming the rule, and valid outputs
// get the expected file names.
#include <catch2/catch.hpp>

#include "export/export.hpp"

using namespace binder::exporter;

namespace {

constexpr std::uint64_t k_rules_mib = 1024ull * 1024;
constexpr std::uint64_t k_rules_gib = 1024 * k_rules_mib;

std::string error_of(const OutputSpec& s, std::uint64_t size) {
  auto r = check_output_rules(s, size);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == binder::common::Errc::invalid_config);
  return r.error().message;
}

}  // namespace

TEST_CASE("rules: every format with its allowed compressions passes") {
  for (const OutputSpec& s : std::vector<OutputSpec>{{"qcow2", "", ""},
                                                     {"qcow2", "zstd", ""},
                                                     {"qcow2", "zlib", ""},
                                                     {"raw", "none", ""},
                                                     {"raw", "xz", ""},
                                                     {"raw", "zstd", ""},
                                                     {"raw", "gzip", ""},
                                                     {"vmdk", "", ""},
                                                     {"ova", "none", ""},
                                                     {"vhd", "", ""},
                                                     {"gcp-tar", "", ""},
                                                     {"gcp-tar", "gzip", ""}}) {
    INFO(s.format << " " << s.compression);
    CHECK(check_output_rules(s, 3 * k_rules_gib));
  }
}

TEST_CASE("rules: azure VHD above 4095 GiB is refused here and in the profile, with the line") {
  CHECK(error_of({"vhd", "", ""}, 4096 * k_rules_gib).find("azure: a VHD can be at most 4095 GiB") == 0);
  CHECK(check_output_rules({"vhd", "", ""}, 4095 * k_rules_gib));
}

TEST_CASE("rules: azure VHD size must be a whole MiB, the message names the rule") {
  std::string m = error_of({"vhd", "", ""}, 3 * k_rules_gib + 512);
  CHECK(m.find("azure") == 0);
  CHECK(m.find("whole MiB") != std::string::npos);
  CHECK(m.find("3073 MiB would do") != std::string::npos);
  CHECK(check_output_rules({"vhd", "", ""}, 3 * k_rules_gib + 5 * k_rules_mib));
}

TEST_CASE("rules: gcp disk.raw must be a whole GiB") {
  std::string m = error_of({"gcp-tar", "", ""}, 3 * k_rules_gib + k_rules_mib);
  CHECK(m.find("gcp: disk.raw must be a whole GiB") == 0);
  CHECK(m.find("4 GiB would do") != std::string::npos);
}

TEST_CASE("rules: compression that a format can't carry is rejected with its rule") {
  CHECK(error_of({"qcow2", "xz", ""}, k_rules_gib).find("qcow2: compression is inside the image") == 0);
  CHECK(error_of({"gcp-tar", "none", ""}, k_rules_gib).find("gcp: ") == 0);  // GCP imports .tar.gz only
  CHECK(error_of({"raw", "zlib", ""}, k_rules_gib).find("raw: ") == 0);
  CHECK(error_of({"vmdk", "zstd", ""}, k_rules_gib).find("vmware: ") == 0);
  CHECK(error_of({"ova", "gzip", ""}, k_rules_gib).find("vmware: ") == 0);
  CHECK(error_of({"vhd", "zstd", ""}, k_rules_gib).find("azure: a VHD must be a fixed") == 0);
  CHECK(error_of({"gcp-tar", "xz", ""}, k_rules_gib).find("gcp: the image must be a gzip") == 0);
}

TEST_CASE("rules: unknown formats and compressions are named") {
  CHECK(error_of({"vdi", "", ""}, k_rules_gib).find("output format 'vdi' is unknown") == 0);
  CHECK(error_of({"raw", "lz4", ""}, k_rules_gib).find("output compression 'lz4' is unknown") == 0);
  CHECK(error_of({"raw", "", "../x"}, k_rules_gib).find("output name '../x'") == 0);
  CHECK(error_of({"raw", "", ".hidden"}, k_rules_gib).find("output name") == 0);
}

TEST_CASE("rules: file names follow format and compression") {
  CHECK(output_file_name({"qcow2", "zstd", ""}, "ovh") == "ovh.qcow2");
  CHECK(output_file_name({"raw", "", ""}, "h") == "h.raw");
  CHECK(output_file_name({"raw", "xz", ""}, "h") == "h.raw.xz");
  CHECK(output_file_name({"raw", "zstd", "disk"}, "h") == "disk.raw.zst");
  CHECK(output_file_name({"raw", "gzip", ""}, "h") == "h.raw.gz");
  CHECK(output_file_name({"vmdk", "", ""}, "v") == "v.vmdk");
  CHECK(output_file_name({"ova", "", ""}, "v") == "v.ova");
  CHECK(output_file_name({"vhd", "", ""}, "a") == "a.vhd");
  CHECK(output_file_name({"gcp-tar", "", ""}, "g") == "g.tar.gz");
  CHECK(effective_compression({"gcp-tar", "", ""}) == "gzip");
  CHECK(effective_compression({"qcow2", "", ""}) == "none");
}

TEST_CASE("rules: two outputs with the same file name are rejected") {
  auto r = check_outputs({{"qcow2", "zstd", ""}, {"qcow2", "none", ""}}, k_rules_gib, "x");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("'x.qcow2' is used twice") != std::string::npos);
  CHECK(check_outputs({{"qcow2", "zstd", ""}, {"qcow2", "none", "x-plain"}}, k_rules_gib, "x"));
  auto bad = check_outputs({{"raw", "", ""}, {"vhd", "", ""}}, k_rules_gib + 1, "x");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().to_string().find("output 2 (vhd): azure:") == 0);
}
