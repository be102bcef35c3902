// The tar readers of the builder: chart archives from memory (read_tgz, tar_commit_id), the
// layer tar reader (image::read_tar), the export container reader (tar::read, hashing) and
// decompressed_size, all on the same bytes.
#include "charts/tgz.hpp"
#include "export/formats.hpp"
#include "export/tar_io.hpp"
#include "image/archive.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace binder;
  auto bytes = fuzz::as_text(data, size);
  (void)charts::read_tgz(bytes, "fuzz chart");
  (void)charts::tar_commit_id(bytes, "fuzz chart");
  auto path = fuzz::put_file("input.tar", bytes);
  (void)image::read_tar(path, 1 << 16);
  (void)exporter::tar::read(path, true, 1 << 16);
  (void)exporter::detail::decompressed_size(path);
  return 0;
}
