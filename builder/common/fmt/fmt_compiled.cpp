// fmt as a compiled library (target binder_fmt): Debian 12 ships libfmt.so but no libfmt.a, and
// binder-firstboot links everything but glibc statically, so the project compiles fmt's
// out-of-line part itself: format-inl.h's functions once here, and the explicit instantiations
// that format.h declares `extern template` (the same list as fmt 9's src/format.cc). Every other
// translation unit includes fmt without FMT_HEADER_ONLY, so it neither parses format-inl.h nor
// emits vformat and dragonbox again.
#include <fmt/format-inl.h>

#if FMT_VERSION / 10000 != 9
#error "fmt_compiled.cpp lists fmt 9's explicit instantiations; check them against this fmt version"
#endif

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;

#ifndef FMT_STATIC_THOUSANDS_SEPARATOR
template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;
#endif

template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>,
                                 locale_ref);

template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;
template FMT_API void buffer<wchar_t>::append(const wchar_t*, const wchar_t*);

}  // namespace detail
FMT_END_NAMESPACE
