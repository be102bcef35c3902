// Ctrl-C and SIGTERM during a build: the handler removes the registered partial files (layer
// partials, output temp files) with async-signal-safe unlink() and exits 130, so an interrupted
// build leaves no partial output and the cache stays valid (committed entries are untouched;
// a layer is only committed by its .json, written last). Up to 16 paths at a time.
#pragma once

#include <filesystem>

namespace binder::layers {

// Installs the SIGINT/SIGTERM handler (idempotent).
void install_interrupt_handler();
// Registers `path` for removal on interrupt; returns a slot for unregister_partial (-1 if full).
int register_partial(const std::filesystem::path& path);
void unregister_partial(int slot);

}  // namespace binder::layers
