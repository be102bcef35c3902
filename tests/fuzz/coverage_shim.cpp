// Coverage for GCC-instrumented code under libFuzzer (see CMakeLists.txt): every
// __sanitizer_cov_trace_pc call (one per basic block) bumps an inline 8-bit counter chosen by a
// hash of its call site. The table of fake PCs only gives libFuzzer's "cov:" figure a meaning
// (distinct counters hit). Not instrumented itself (no_sanitize_coverage).
#include <cstddef>
#include <cstdint>

extern "C" void __sanitizer_cov_8bit_counters_init(std::uint8_t* begin, std::uint8_t* end);
extern "C" void __sanitizer_cov_pcs_init(const std::uintptr_t* begin, const std::uintptr_t* end);

namespace {

constexpr std::size_t k_counters = std::size_t{1} << 16;
std::uint8_t g_counters[k_counters];
std::uintptr_t g_pcs[2 * k_counters];  // (pc, flags) pairs

__attribute__((constructor, no_sanitize_coverage)) void register_counters() {
  for (std::size_t i = 0; i < k_counters; ++i) {
    g_pcs[2 * i] = 0x1000 + i;
    g_pcs[2 * i + 1] = 0;
  }
  __sanitizer_cov_8bit_counters_init(g_counters, g_counters + k_counters);
  __sanitizer_cov_pcs_init(g_pcs, g_pcs + 2 * k_counters);
}

}  // namespace

extern "C" __attribute__((no_sanitize_coverage, no_sanitize("address", "undefined"))) void
__sanitizer_cov_trace_pc() {
  auto pc = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
  ++g_counters[(pc * 0x9E3779B97F4A7C15ull) >> 48];
}

// GCC's trace-cmp also reports float comparisons; libFuzzer has no hooks for them.
extern "C" __attribute__((no_sanitize_coverage)) void __sanitizer_cov_trace_cmpf(float, float) {}
extern "C" __attribute__((no_sanitize_coverage)) void __sanitizer_cov_trace_cmpd(double, double) {}
