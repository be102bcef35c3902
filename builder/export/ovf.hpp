// The OVF 1.0 descriptor and manifest of an OVA (DMTF DSP0243 1.0, as VMware's ovftool writes
// it): one VirtualSystem with CPUs, memory, a SCSI controller holding the streamOptimized disk,
// and one ethernet adapter on "VM Network". The controller defaults to VMware paravirtual SCSI
// (rasd ResourceSubType "VirtualSCSI") and the NIC to VMXNET3: Debian's cloud kernel carries
// vmw_pvscsi and vmxnet3 but neither AHCI nor mptspi. Pure text functions.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace binder::exporter::ovf {

struct Params {
  std::string name;             // virtual system id and name
  std::string product;          // ProductSection product
  std::string vmdk_file;        // href of the disk file in the OVA
  std::uint64_t vmdk_size = 0;  // bytes of the .vmdk file
  std::uint64_t capacity = 0;   // virtual disk size, bytes
  int cpus = 2;
  int memory_mib = 4096;
  std::string scsi_subtype = "VirtualSCSI";  // or "lsilogic"
  std::string nic_subtype = "VmxNet3";       // or "E1000"
};

// The .ovf document (UTF-8 XML, trailing newline). Names are XML-escaped.
std::string descriptor(const Params& p);

// The .mf: one "SHA256(<file>)= <hex>" line per (file, sha256) pair, in the given order.
std::string manifest(const std::vector<std::pair<std::string, std::string>>& files);

std::string xml_escape(const std::string& s);

}  // namespace binder::exporter::ovf
