// One table drives the profile's output checks, the settings reference and the exporter: every
// rule is reported at the profile line of the value to change.
#include "config/output_rules.hpp"

#include <cstdlib>
#include <filesystem>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "config/load.hpp"
#include "config/settings.hpp"

using namespace binder::config;
namespace fs = binder::common::fs;

namespace {

// Loads a profile that extends base.yaml with `body`; returns the error message ("" if it loads).
std::string load_error(const std::string& body) {
  fs::TempDir dir = *fs::TempDir::create("output-rules");
  const auto path = dir.path() / "p.yaml";
  REQUIRE(fs::write_file_atomic(
      path, "extends: " + (std::filesystem::path(BINDER_SOURCE_DIR) / "profiles/base.yaml").string() + "\n" +
                body));
  auto r = load_profile(path, {});
  return r ? std::string() : r.error().message;
}

}  // namespace

TEST_CASE("output rules: the Azure 4095 GiB cap is a profile error at disk.size's line", "[config]") {
  std::string m = load_error("name: az\ndisk:\n  size: 4096G\noutputs: [{format: vhd}]\n");
  INFO(m);
  CHECK(m.find("p.yaml:4:9: error: 'disk.size' 4T does not suit 'outputs[0]' (format 'vhd'") !=
        std::string::npos);
  CHECK(m.find("azure: a VHD can be at most 4095 GiB") != std::string::npos);
  CHECK(load_error("name: az\ndisk:\n  size: 4095G\noutputs: [{format: vhd}]\n").empty());
}

TEST_CASE("output rules: a compression the format can't carry is reported at its line", "[config]") {
  std::string m =
      load_error("name: g\ndisk:\n  size: 10G\noutputs:\n  - format: gcp-tar\n    compression: none\n");
  INFO(m);
  CHECK(m.find("p.yaml:7:18: error: 'outputs[0]' (format 'gcp-tar'): gcp: ") != std::string::npos);
  CHECK(m.find("compression must be gzip, not 'none'") != std::string::npos);
  // raw + gzip: the exporter writes .raw.gz, so the profile accepts it too.
  CHECK(load_error("name: r\noutputs: [{format: raw, compression: gzip}]\n").empty());
}

TEST_CASE("output rules: the table names every format once, defaults first, file names", "[config]") {
  CHECK(format_rules().size() == 6);
  for (std::size_t i = 0; i < format_rules().size(); ++i) {
    CHECK(static_cast<std::size_t>(format_rules()[i].format) == i);
  }
  CHECK(default_compression(Format::gcp_tar) == Compression::gzip);
  CHECK(default_compression(Format::raw) == Compression::none);
  CHECK(output_file_name(Format::raw, Compression::zstd, "h") == "h.raw.zst");
  CHECK(output_file_name(Format::gcp_tar, Compression::gzip, "g") == "g.tar.gz");
  // The settings reference is rendered from the same table.
  const SettingSpec* outputs = find_setting("outputs");
  REQUIRE(outputs != nullptr);
  CHECK(outputs->help.find("vhd (Azure) none, a fixed VHD's virtual size must be a whole MiB, a VHD "
                           "can be at most 4095 GiB") != std::string_view::npos);
  CHECK(outputs->help.find("raw (Hetzner, AWS) none|xz|zstd|gzip") != std::string_view::npos);
}
