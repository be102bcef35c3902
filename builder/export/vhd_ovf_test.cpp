// The VHD footer checks and the OVF descriptor, without writing disks.
#include <cstring>

#include <catch2/catch.hpp>

#include "common/exec.hpp"
#include "common/fs.hpp"
#include "export/ovf.hpp"
#include "export/vhd.hpp"

using namespace binder::exporter;
namespace fs = binder::common::fs;

namespace {

// A minimal fixed-VHD file: `size` zero bytes (sparse) and a footer.
std::filesystem::path make_vhd(const std::filesystem::path& dir, std::uint64_t size,
                               std::uint32_t disk_type = 2, const char* cookie = "conectix") {
  unsigned char f[512] = {};
  std::memcpy(f, cookie, 8);
  auto put = [&](int at, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i, v >>= 8) {
      f[at + i] = static_cast<unsigned char>(v & 0xff);
    }
  };
  put(12, 0x00010000, 4);
  put(16, ~0ull, 8);
  put(40, size, 8);
  put(48, size, 8);
  put(60, disk_type, 4);
  put(64, vhd::footer_checksum(f), 4);
  auto path = dir / "d.vhd";
  std::string data(size, '\0');
  data.append(reinterpret_cast<const char*>(f), 512);
  REQUIRE(fs::write_file_atomic(path, data));
  return path;
}

std::string verify_error(const std::filesystem::path& p, std::uint64_t size) {
  auto r = vhd::verify_fixed(p, size);
  REQUIRE_FALSE(r);
  return r.error().message;
}

}  // namespace

TEST_CASE("vhd: a well-formed fixed footer verifies, pinning keeps it valid and deterministic") {
  auto dir = fs::TempDir::create("vhd-test");
  REQUIRE(dir);
  auto p = make_vhd(dir->path(), 4096);
  REQUIRE(vhd::verify_fixed(p, 4096));
  REQUIRE(vhd::pin_footer(p, 1700000000, "seed"));
  REQUIRE(vhd::verify_fixed(p, 4096));
  auto f = vhd::read_footer(p);
  REQUIRE(f);
  CHECK(f->timestamp == 1700000000 - vhd::k_vhd_epoch);
  CHECK(f->unique_id_hex.size() == 32);
  CHECK(f->unique_id_hex[12] == '4');
  std::string id = f->unique_id_hex;
  REQUIRE(vhd::pin_footer(p, 1700000000, "seed"));
  CHECK(vhd::read_footer(p)->unique_id_hex == id);
}

TEST_CASE("vhd: wrong cookie, type, checksum or size are each named") {
  auto dir = fs::TempDir::create("vhd-test");
  REQUIRE(dir);
  CHECK(verify_error(make_vhd(dir->path(), 4096, 2, "cxsparse"), 4096).find("cookie") != std::string::npos);
  CHECK(verify_error(make_vhd(dir->path(), 4096, 3), 4096).find("disk type is 3") != std::string::npos);
  CHECK(verify_error(make_vhd(dir->path(), 4096), 8192).find("current size is 4096") != std::string::npos);
  auto p = make_vhd(dir->path(), 4096);
  std::string data = *fs::read_file(p);
  data[4096 + 30] ^= 1;  // creator version byte: checksum no longer matches
  REQUIRE(fs::write_file_atomic(p, data));
  CHECK(verify_error(p, 4096).find("checksum") != std::string::npos);
}

TEST_CASE("ovf: the descriptor is well-formed XML with disk, hardware and network") {
  ovf::Params p;
  p.name = "ovh & <co>";
  p.product = "binder-image";
  p.vmdk_file = "x.vmdk";
  p.vmdk_size = 12345;
  p.capacity = 3ull << 30;
  p.cpus = 4;
  p.memory_mib = 8192;
  std::string d = ovf::descriptor(p);
  CHECK(d.find("ovf:capacity=\"3221225472\"") != std::string::npos);
  CHECK(d.find("<File ovf:href=\"x.vmdk\" ovf:id=\"file1\" ovf:size=\"12345\"/>") != std::string::npos);
  CHECK(d.find("<rasd:VirtualQuantity>4</rasd:VirtualQuantity>") != std::string::npos);
  CHECK(d.find("<rasd:VirtualQuantity>8192</rasd:VirtualQuantity>") != std::string::npos);
  CHECK(d.find("<rasd:ResourceType>10</rasd:ResourceType>") != std::string::npos);
  CHECK(d.find("ovh &amp; &lt;co&gt;") != std::string::npos);
  // Parse it with a real XML parser and look at the structure.
  auto r = binder::common::exec::run(
      {"/usr/bin/python3", "-c",
       "import sys, xml.etree.ElementTree as E\n"
       "ns={'o':'http://schemas.dmtf.org/ovf/envelope/1'}\n"
       "t=E.fromstring(sys.stdin.read())\n"
       "print(len(t.findall('o:VirtualSystem/o:VirtualHardwareSection/o:Item', ns)),"
       " t.find('o:DiskSection/o:Disk', ns) is not None)\n"},
      {.stdin_data = d});
  REQUIRE(r);
  INFO(r->err);
  CHECK(r->out == "5 True\n");
  CHECK(ovf::manifest({{"a.ovf", "00ff"}, {"a.vmdk", "11ee"}}) ==
        "SHA256(a.ovf)= 00ff\nSHA256(a.vmdk)= 11ee\n");
}
