// `binder-firstboot render ARTIFACT --metadata FILE [--ram-gib N] [--cpus N] [--public-ip IP]
//  [--extra-disk | --extra-disk-gib N] [--k3s-kubeconfig FILE] [--image-root DIR]`,
// `binder-firstboot render sizing --markdown-table` (the README table) and `binder-firstboot render --list`:
// prints one generated artifact (artifacts.hpp) to stdout without touching the system. Secrets always print
// as placeholders, including the S3 keys present in the metadata file. Machine facts default to
// 4 GiB RAM, 2 CPUs, no extra disk; the public IP to the metadata's or "<public-ip>". A
// --public-ip the agent would refuse (private, CGNAT, link-local, loopback: address_class.hpp)
// exits 2 naming the flag.
#pragma once

#include <string>
#include <vector>

namespace binder::firstboot::render {

// `args` are the words after "render". Returns the exit code (0 ok, 2 usage or invalid
// metadata, 1 other failure); messages go to stderr.
int render_main(const std::vector<std::string>& args);

}  // namespace binder::firstboot::render
