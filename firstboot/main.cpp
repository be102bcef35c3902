// binder-firstboot: provisions a booted VM into a BinderHub member. All logic lives in
// binder_firstboot_lib.
#include "firstboot/app/cli.hpp"

int main(int argc, char** argv) { return binder::firstboot::main(argc, argv); }
