// A fake block-device world for extra-disk tests (tests only): answers lsblk, blkid, wipefs,
// sfdisk, mkfs.xfs, findmnt and mount like a machine with a root disk vda and an extra disk vdb,
// changing state as the tools would.
#pragma once

#include <nlohmann/json.hpp>

#include "support/firstboot/test_seams.hpp"

namespace binder::firstboot::host::testing_disk {

struct FakeDisks {
  bool partitioned = false;  // vdb1 exists, GPT named binder-data
  bool formatted = false;    // vdb1 has xfs binder-data
  bool mounted = false;
  bool foreign_signature = false;  // blkid -p finds something lsblk does not show
  std::string vdb_fstype;          // a filesystem directly on vdb (data!)
  int sfdisk_calls = 0, mkfs_calls = 0, mount_calls = 0;

  nlohmann::json lsblk() const {
    using nlohmann::json;
    json vda = {{"name", "vda"},
                {"path", "/dev/vda"},
                {"type", "disk"},
                {"size", 21474836480},
                {"pttype", "gpt"},
                {"ro", false},
                {"rm", false},
                {"children", json::array({{{"name", "vda1"},
                                           {"path", "/dev/vda1"},
                                           {"type", "part"},
                                           {"size", 21474836480},
                                           {"fstype", "ext4"},
                                           {"mountpoint", "/"}}})}};
    json vdb = {{"name", "vdb"},
                {"path", "/dev/vdb"},
                {"type", "disk"},
                {"size", 107374182400},
                {"ro", false},
                {"rm", false},
                {"fstype", vdb_fstype.empty() ? json() : json(vdb_fstype)}};
    if (partitioned) {
      vdb["pttype"] = "gpt";
      vdb["children"] = json::array({{{"name", "vdb1"},
                                      {"path", "/dev/vdb1"},
                                      {"type", "part"},
                                      {"size", 107373133824},
                                      {"partlabel", "binder-data"},
                                      {"fstype", formatted ? json("xfs") : json()},
                                      {"label", formatted ? json("binder-data") : json()},
                                      {"uuid", formatted ? json("1111-2222") : json()},
                                      {"mountpoint", mounted ? json("/mnt/disk") : json()}}});
    }
    json zram = {{"name", "zram0"}, {"path", "/dev/zram0"}, {"type", "disk"}, {"size", 0}};
    return {{"blockdevices", json::array({vda, vdb, zram})}};
  }

  binder::firstboot::testing::FakeRunner::Handler handler() {
    using binder::firstboot::testing::fail_output;
    using binder::firstboot::testing::ok_output;
    return [this](const std::vector<std::string>& a, const common::exec::Options&) {
      const std::string& p = a[0];
      if (p == "lsblk") {
        auto all = lsblk();
        if (a.back() == "/dev/vdb") {
          all["blockdevices"] = nlohmann::json::array({all["blockdevices"][1]});
        }
        return ok_output(all.dump());
      }
      if (p == "blkid" && a[1] == "-p") {
        bool found = foreign_signature || !vdb_fstype.empty() || (a.back() == "/dev/vdb" && partitioned) ||
                     (a.back() == "/dev/vdb1" && formatted);
        return found ? ok_output("TYPE=x\n") : fail_output(2);
      }
      if (p == "blkid") {
        return formatted ? ok_output("1111-2222\n") : fail_output(2);
      }
      if (p == "wipefs") {
        return ok_output(foreign_signature ? "0x0 LVM2_member\n" : "");
      }
      if (p == "sfdisk") {
        ++sfdisk_calls;
        partitioned = true;
        return ok_output();
      }
      if (p == "mkfs.xfs") {
        ++mkfs_calls;
        formatted = true;
        return ok_output();
      }
      if (p == "findmnt") {
        return mounted ? ok_output("1111-2222\n") : fail_output(1);
      }
      if (p == "mount") {
        ++mount_calls;
        mounted = true;
        return ok_output();
      }
      return ok_output();
    };
  }
};

}  // namespace binder::firstboot::host::testing_disk
