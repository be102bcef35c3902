// binder-image: builds preconfigured disk images. All logic lives in binder_builder_lib.
#include "cli/cli.hpp"

int main(int argc, char** argv) { return binder::cli::main(argc, argv); }
