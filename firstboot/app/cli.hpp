// The binder-firstboot command line: verbs run, status, plan, render; --help everywhere.
// Logs go to stderr (syslog "<N>" prefixes when not a TTY, for journald), verb output to stdout.
#pragma once

#include <string>
#include <vector>

namespace binder::firstboot {

int main(int argc, char** argv);

}  // namespace binder::firstboot
