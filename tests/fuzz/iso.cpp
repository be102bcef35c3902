// The seed ISO reader (cloud-init NoCloud cidata image, libarchive's ISO9660 reader).
#include "seed/seed.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto path = binder::fuzz::put_file("seed.iso", binder::fuzz::as_text(data, size));
  (void)binder::seed::read_seed_iso(path);
  return 0;
}
