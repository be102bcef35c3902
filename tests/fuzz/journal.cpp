// The firstboot journal reader: the pure parser, then Journal::read on the same bytes as a file.
#include "firstboot/journal.hpp"

#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace binder::firstboot;
  auto text = binder::fuzz::as_text(data, size);
  std::size_t good = 0;
  bool torn = false;
  auto records = parse_journal(text, good, torn);
  if (records && good > text.size()) {
    __builtin_trap();  // the valid prefix cannot be longer than the text
  }
  auto j = Journal::read(binder::fuzz::put_file("journal", text));
  if (j) {
    for (const auto& r : j->records()) {
      (void)j->last_state(r.step);
    }
  }
  return 0;
}
