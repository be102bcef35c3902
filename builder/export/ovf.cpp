// See ovf.hpp. rasd child elements appear in alphabetical order: the CIM schema of OVF 1.0
// declares them as an xs:sequence, and strict parsers (ovftool, vSphere) reject other orders.
#include "export/ovf.hpp"

#include <fmt/format.h>

namespace binder::exporter::ovf {
namespace {

// One <Item> of the VirtualHardwareSection; `fields` are rasd element name/value pairs in order.
std::string item(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = "      <Item>\n";
  for (const auto& [k, v] : fields) {
    out += fmt::format("        <rasd:{0}>{1}</rasd:{0}>\n", k, v);
  }
  return out + "      </Item>\n";
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string descriptor(const Params& p) {
  const std::string name = xml_escape(p.name);
  std::string hw;
  hw += item({{"AllocationUnits", "hertz * 10^6"},
              {"Description", "Number of Virtual CPUs"},
              {"ElementName", fmt::format("{} virtual CPU(s)", p.cpus)},
              {"InstanceID", "1"},
              {"ResourceType", "3"},
              {"VirtualQuantity", std::to_string(p.cpus)}});
  hw += item({{"AllocationUnits", "byte * 2^20"},
              {"Description", "Memory Size"},
              {"ElementName", fmt::format("{}MB of memory", p.memory_mib)},
              {"InstanceID", "2"},
              {"ResourceType", "4"},
              {"VirtualQuantity", std::to_string(p.memory_mib)}});
  hw += item({{"Address", "0"},
              {"Description", "SCSI Controller"},
              {"ElementName", "SCSI Controller 0"},
              {"InstanceID", "3"},
              {"ResourceSubType", xml_escape(p.scsi_subtype)},
              {"ResourceType", "6"}});
  hw += item({{"AddressOnParent", "0"},
              {"ElementName", "Hard Disk 1"},
              {"HostResource", "ovf:/disk/vmdisk1"},
              {"InstanceID", "4"},
              {"Parent", "3"},
              {"ResourceType", "17"}});
  hw += item({{"AddressOnParent", "7"},
              {"AutomaticAllocation", "true"},
              {"Connection", "VM Network"},
              {"Description",
               fmt::format("{} ethernet adapter on &quot;VM Network&quot;", xml_escape(p.nic_subtype))},
              {"ElementName", "Ethernet 1"},
              {"InstanceID", "5"},
              {"ResourceSubType", xml_escape(p.nic_subtype)},
              {"ResourceType", "10"}});

  return fmt::format(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<Envelope vmw:buildId="binder-image" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
    <File ovf:href="{vmdk}" ovf:id="file1" ovf:size="{vmdk_size}"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="{capacity}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network">
      <Description>The VM Network network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="{name}">
    <Info>A virtual machine</Info>
    <Name>{name}</Name>
    <OperatingSystemSection ovf:id="96" vmw:osType="debian11_64Guest">
      <Info>The kind of installed guest operating system</Info>
      <Description>Debian GNU/Linux (64-bit)</Description>
    </OperatingSystemSection>
    <ProductSection>
      <Info>Information about the installed software</Info>
      <Product>{product}</Product>
    </ProductSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>{name}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>
      </System>
{hw}    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
)",
      fmt::arg("vmdk", xml_escape(p.vmdk_file)), fmt::arg("vmdk_size", p.vmdk_size),
      fmt::arg("capacity", p.capacity), fmt::arg("name", name), fmt::arg("product", xml_escape(p.product)),
      fmt::arg("hw", hw));
}

std::string manifest(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out;
  for (const auto& [file, sha] : files) {
    out += fmt::format("SHA256({})= {}\n", file, sha);
  }
  return out;
}

}  // namespace binder::exporter::ovf
