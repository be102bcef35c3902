// See final_files.hpp.
#include "layers/steps/final_files.hpp"

#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/hash.hpp"
#include "config/k3s_upgrade.hpp"
#include "image/archive.hpp"

namespace binder::layers::steps {

std::string default_firstboot_unit() {
  return R"([Unit]
Description=binder-image first boot provisioning
Wants=network-online.target
After=network-online.target cloud-init.service
ConditionPathExists=!/var/lib/binder-firstboot/complete

[Service]
Type=oneshot
RemainAfterExit=yes
StateDirectory=binder-firstboot
ExecStart=/usr/local/sbin/binder-firstboot run

[Install]
WantedBy=multi-user.target
)";
}

std::string build_json(const config::Profile& profile, const ResolvedInputs& inputs) {
  using nlohmann::json;
  json in = json::object();
  auto put = [&](const char* key, const InputFile& f) {
    in[key] = json{{"file", f.name}, {"sha256", f.sha256}};
  };
  put(inputs.base_is_rootfs ? "base_rootfs" : "base_image", inputs.base);
  if (inputs.k3s_binary) {
    put("k3s_binary", *inputs.k3s_binary);
  }
  if (inputs.airgap_images) {
    put("k3s_airgap_images", *inputs.airgap_images);
  }
  put("firstboot_binary", inputs.firstboot_binary);
  std::vector<std::string> overlays;
  for (const auto& o : profile.overlays) {
    overlays.push_back(o.name.value);
  }
  json datasources = json::array();
  for (const auto& d : profile.cloud_init.datasources.value) {
    datasources.push_back(d.value);
  }
  // k3s upgrades: the files placed in the server manifests dir and what the Plan follows.
  json upgrade = nullptr;
  if (inputs.upgrade_crd && inputs.upgrade_controller) {
    const auto& u = profile.k3s.upgrade;
    std::string dir = "/" + std::string(config::k_suc_dir) + "/";
    upgrade = {{"controller_version", u.controller_version.value},
               {u.pinned_version() ? "version" : "channel", u.channel.value},
               {"files",
                {{{"path", dir + std::string(config::k_suc_crd_file)},
                  {"source", inputs.upgrade_crd->name},
                  {"sha256", inputs.upgrade_crd->sha256}},
                 {{"path", dir + std::string(config::k_suc_controller_file)},
                  {"source", inputs.upgrade_controller->name},
                  {"sha256", inputs.upgrade_controller->sha256}},
                 {{"path", dir + std::string(config::k_suc_plan_file)},
                  {"source", "plan"},
                  {"sha256", common::hash::sha256_hex(config::upgrade_plan_yaml(u))}}}}};
  }
  json j{
      {"format", "binder-build-v1"},
      {"profile", profile.name.value},
      {"description", profile.description.value},
      {"builder_version", BINDER_VERSION},
      {"k3s_version", inputs.k3s_binary ? profile.k3s.version.value : ""},
      {"source_date_epoch", inputs.file_time},
      {"inputs", in},
      {"overlays", overlays},
      {"member_baked", inputs.member.has_value()},
      {"kubelet",
       {{"max_pods_per_gib", profile.kubelet.max_pods_per_gib.value},
        {"image_gc_high", profile.kubelet.image_gc_high.value},
        {"image_gc_low", profile.kubelet.image_gc_low.value}}},
      {"cloud_init_datasources", datasources},
      {"k3s_upgrade", upgrade},
  };
  return j.dump(2) + "\n";
}

Result<image::TarBuilder> final_tree(const config::Profile& profile, const ResolvedInputs& inputs) {
  image::TarBuilder tar;
  for (const auto& overlay : profile.overlays) {
    TRY_CTX(tar.add_tree(overlay.dir), "overlay '{}'", overlay.name.value);
  }
  TRY(tar.add_host_file("usr/local/sbin/binder-firstboot", inputs.firstboot_binary.path, 0755));
  std::string unit = default_firstboot_unit();
  if (!inputs.firstboot_unit.empty()) {
    TRY_ASSIGN(unit, common::fs::read_file(inputs.firstboot_unit));
  }
  tar.add_file("etc/systemd/system/binder-firstboot.service", unit, 0644);
  if (profile.firstboot.enable.value) {
    tar.add_symlink("etc/systemd/system/multi-user.target.wants/binder-firstboot.service",
                    "/etc/systemd/system/binder-firstboot.service");
  }
  if (inputs.member) {
    TRY(tar.add_host_file("etc/binder-image/member.yaml", inputs.member->path, 0600));
  }
  tar.add_file(k_build_json_path, build_json(profile, inputs), 0644);
  return tar;
}

}  // namespace binder::layers::steps
