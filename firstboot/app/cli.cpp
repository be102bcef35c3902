// Placeholder verb table; replaced by the agent CLI.
#include "firstboot/app/cli.hpp"

#include <fmt/format.h>

namespace binder::firstboot {
int main(int, char**) {
  fmt::print(stderr, "binder-firstboot: no verbs yet\n");
  return 2;
}
}  // namespace binder::firstboot
