// The profile parser: the located YAML tree (size/alias/depth limits, duplicate keys) and the
// whole load (settings walk, defaults, validation) of a profile file.
#include <cstdlib>

#include "config/load.hpp"
#include "config/tree.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace binder;
  auto text = fuzz::as_text(data, size);
  config::Diagnostics diags;
  (void)config::parse_yaml(text, "p.yaml", diags);
  (void)diags.render();
  // A file of its own: `extends:` may name a sibling (the real profiles are copied beside it),
  // ${VARS} expand from a fixed environment.
  static const bool env = [] {
    setenv("BINDER_TEST_ROOTFS", "/nonexistent/rootfs.tar.zst", 1);
    setenv("BINDER_TEST_ARTIFACTS", "/nonexistent/artifacts", 1);
    setenv("BINDER_TEST_CHARTS", "/nonexistent/charts", 1);
    std::filesystem::create_directories(fuzz::scratch_dir() / "profiles");
    for (const auto& e : std::filesystem::directory_iterator(BINDER_SOURCE_DIR "/profiles")) {
      if (e.path().extension() == ".yaml") {
        std::filesystem::copy_file(e.path(), fuzz::scratch_dir() / "profiles" / e.path().filename(),
                                   std::filesystem::copy_options::overwrite_existing);
      }
    }
    return true;
  }();
  (void)env;
  auto path = fuzz::put_file("profiles/fuzz.yaml", text);
  auto r = config::load_profile(path, {});
  if (!r) {
    (void)r.error().to_string();
  }
  return 0;
}
