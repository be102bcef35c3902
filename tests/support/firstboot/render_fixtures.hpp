// Test fixtures for the render tests: a federation member shaped like the real ones and machine
// facts of a given size. Header-only, used by *_test.cpp here and in tests/integration/render.
#pragma once

#include <cstdint>

#include "firstboot/env.hpp"
#include "firstboot/metadata/member.hpp"

namespace binder::firstboot::render::fixtures {

inline Member example_member(Mode mode = Mode::federation) {
  Member m;
  m.name = "example";
  m.domain = "mybinder.org";
  m.mode = mode;
  m.dns = DnsConfig{"cloudflare", "mybinder.org", "cf-token-SECRET-1"};
  m.tls = TlsConfig{"ops@example.org", "letsencrypt-prod"};
  RegistryConfig r;
  r.host = "registry.example.mybinder.org";
  r.s3 = S3Config{"https://s3.example.org", "us-east-1", "example-registry", "AKIA-SECRET-2", "s3-SECRET-3"};
  r.quota_gb = 15000;
  m.registry = r;
  return m;
}

inline MachineFacts machine(double ram_gib, int cpus, bool extra_disk = false,
                            const char* ip = "203.0.113.7") {
  MachineFacts f;
  f.ram_bytes = static_cast<std::uint64_t>(ram_gib * 1024.0 * 1024.0 * 1024.0);
  f.cpus = cpus;
  f.public_ip = ip;
  f.public_ip_source = "test";
  f.extra_disk = extra_disk ? "/dev/vdb" : "";
  return f;
}

}  // namespace binder::firstboot::render::fixtures
