// k3s config.yaml: registry.kind harbor-local with an extra disk puts k3s's local-path volumes
// (Harbor's images and database) on the disk; every other case leaves the k3s default.
#include <catch2/catch.hpp>

#include "firstboot/k3s/k3s_files.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
using binder::firstboot::testing::TestRoot;

namespace {

std::string config(std::optional<RegistryConfig> registry, bool extra_disk, Mode mode = Mode::standalone) {
  Member m;
  m.name = "example";
  m.domain = "example.org";
  m.mode = mode;
  m.registry = std::move(registry);
  MachineFacts f;
  f.ram_bytes = 16ull << 30;
  f.cpus = 4;
  f.public_ip = "203.0.113.7";
  f.public_ip_on_nic = true;
  f.extra_disk = extra_disk ? "/dev/vdb" : "";
  TestRoot t(m, f);
  return k3s::render_k3s_config(*t.env);
}

RegistryConfig kind(RegistryKind k) {
  RegistryConfig r;
  r.kind = k;
  if (k == RegistryKind::harbor_s3)
    r.s3 = S3Config{"https://s3.example.org", "eu", "b", "a", "s"};
  if (k == RegistryKind::external)
    r.url = "https://ghcr.io";
  return r;
}

}  // namespace

TEST_CASE("k3s: harbor-local on an extra disk moves local-path volumes to it", "[k3s][registry]") {
  const std::string line = "default-local-storage-path: \"/mnt/disk/local-path\"\n";
  CHECK(config(kind(RegistryKind::harbor_local), true).find(line) != std::string::npos);
  CHECK(config(kind(RegistryKind::harbor_local), false).find("default-local-storage-path") ==
        std::string::npos);
  CHECK(config(kind(RegistryKind::harbor_s3), true).find("default-local-storage-path") == std::string::npos);
  CHECK(config(kind(RegistryKind::external), true).find("default-local-storage-path") == std::string::npos);
  CHECK(config(kind(RegistryKind::harbor_local), true, Mode::federation).find("default-local-storage-path") ==
        std::string::npos);
  CHECK(config(std::nullopt, true).find("default-local-storage-path") == std::string::npos);
}
