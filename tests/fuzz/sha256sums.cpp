// The SHA256SUMS parser (Ubuntu lists, k3s sha256sum-amd64.txt, BSD style).
#include "base/sha256sums.hpp"

#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace binder::base;
  auto text = binder::fuzz::as_text(data, size);
  auto entries = parse_sha256sums(text);
  for (const auto& e : entries) {
    if (!is_sha256_hex(e.sha256)) {
      __builtin_trap();  // every parsed entry carries a real digest
    }
    auto found = find_sha256(entries, e.name);
    if (!found) {
      __builtin_trap();
    }
  }
  (void)lookup_sha256(text, "k3s", "fuzz");
  (void)normalize_sha256(text.substr(0, 64));
  return 0;
}
