// The VHD footer reader and the fixed-VHD check (what Azure verifies).
#include "export/vhd.hpp"

#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace binder::exporter;
  if (size >= 512) {
    auto f = vhd::parse_footer(data + size - 512);
    if (f.computed_checksum != vhd::footer_checksum(data + size - 512)) {
      __builtin_trap();
    }
  }
  auto path = binder::fuzz::put_file("disk.vhd", binder::fuzz::as_text(data, size));
  auto f = vhd::read_footer(path);
  if (f) {
    (void)vhd::verify_fixed(path, f->current_size);
  }
  (void)vhd::verify_fixed(path, size >= 512 ? size - 512 : 0);
  return 0;
}
