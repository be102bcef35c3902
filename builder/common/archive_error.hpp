// libarchive's message for the last error of `a`. archive_error_string() returns NULL when
// libarchive set none (a format the reader gave up on without a message), and fmt refuses a NULL
// char* by throwing: every libarchive error message goes through here.
// Header-only: only the modules that link libarchive include it.
#pragma once

#include <archive.h>

namespace binder::common {

inline const char* archive_why(archive* a) {
  const char* m = archive_error_string(a);
  return m != nullptr ? m : "unknown libarchive error";
}

}  // namespace binder::common
