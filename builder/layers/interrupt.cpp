// See interrupt.hpp. Fixed-size slots of C strings: the handler may only touch memory that is
// never reallocated, and unlink()/_exit() are async-signal-safe.
#include "layers/interrupt.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace binder::layers {
namespace {

constexpr int k_slots = 16;
constexpr std::size_t k_max_path = 4096;
char g_paths[k_slots][k_max_path];
std::atomic<bool> g_used[k_slots];

void on_signal(int) {
  for (int i = 0; i < k_slots; ++i) {
    if (g_used[i].load()) {
      ::unlink(g_paths[i]);
    }
  }
  static const char msg[] = "binder-image: interrupted, partial files removed\n";
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  ::_exit(130);
}

}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

int register_partial(const std::filesystem::path& path) {
  const std::string& s = path.native();
  if (s.size() >= k_max_path) {
    return -1;
  }
  for (int i = 0; i < k_slots; ++i) {
    if (!g_used[i].load()) {
      std::memcpy(g_paths[i], s.c_str(), s.size() + 1);
      g_used[i].store(true);
      return i;
    }
  }
  return -1;
}

void unregister_partial(int slot) {
  if (slot >= 0 && slot < k_slots) {
    g_used[slot].store(false);
  }
}

}  // namespace binder::layers
