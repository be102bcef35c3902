// fuzz_make_seeds links the same coverage-instrumented modules as the fuzz targets
// (-fsanitize-coverage=trace-pc,trace-cmp on every module in build-fuzz/) but is an ordinary
// program, not a libFuzzer target: GCC's hooks get empty definitions here instead of libFuzzer's.
#include <cstdint>

#define BINDER_NO_HOOK extern "C" __attribute__((no_sanitize_coverage))

BINDER_NO_HOOK void __sanitizer_cov_trace_pc() {}
BINDER_NO_HOOK void __sanitizer_cov_trace_cmp1(std::uint8_t, std::uint8_t) {}
BINDER_NO_HOOK void __sanitizer_cov_trace_cmp2(std::uint16_t, std::uint16_t) {}
BINDER_NO_HOOK void __sanitizer_cov_trace_cmp4(std::uint32_t, std::uint32_t) {}
BINDER_NO_HOOK void __sanitizer_cov_trace_cmp8(std::uint64_t, std::uint64_t) {}
BINDER_NO_HOOK void __sanitizer_cov_trace_const_cmp1(std::uint8_t, std::uint8_t) {}
BINDER_NO_HOOK void __sanitizer_cov_trace_const_cmp2(std::uint16_t, std::uint16_t) {}
BINDER_NO_HOOK void __sanitizer_cov_trace_const_cmp4(std::uint32_t, std::uint32_t) {}
BINDER_NO_HOOK void __sanitizer_cov_trace_const_cmp8(std::uint64_t, std::uint64_t) {}
BINDER_NO_HOOK void __sanitizer_cov_trace_cmpf(float, float) {}
BINDER_NO_HOOK void __sanitizer_cov_trace_cmpd(double, double) {}
BINDER_NO_HOOK void __sanitizer_cov_trace_switch(std::uint64_t, std::uint64_t*) {}
