// The binder-firstboot command line: verbs run, status, plan, render.
#pragma once

namespace binder::firstboot {

int main(int argc, char** argv);

}  // namespace binder::firstboot
