// See system_files.hpp.
#include "layers/steps/system_files.hpp"

#include "config/k3s_upgrade.hpp"

namespace binder::layers::steps {

std::string k3s_unit() {
  return R"([Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-/etc/systemd/system/k3s.service.env
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/k3s server
)";
}

namespace {

// A verified input file; one not downloaded yet (plan) stands in as a note of its checksum.
Result<void> add_input(image::TarBuilder& tar, const std::string& path, const InputFile& f,
                       mode_t mode) {
  if (f.path.empty()) {
    tar.add_file(path, "not downloaded yet: sha256=" + f.sha256, mode);
    return {};
  }
  return tar.add_host_file(path, f.path, mode);
}

}  // namespace

Result<image::TarBuilder> system_tree(const config::Profile& profile, const ResolvedInputs& inputs) {
  image::TarBuilder tar;
  if (inputs.k3s_binary) {
    TRY(add_input(tar, "usr/local/bin/k3s", *inputs.k3s_binary, 0755));
    for (const char* tool : {"kubectl", "crictl", "ctr"}) {
      tar.add_symlink(fmt::format("usr/local/bin/{}", tool), "k3s");
    }
    if (inputs.airgap_images) {
      TRY(add_input(tar, "var/lib/rancher/k3s/agent/images/" + inputs.airgap_images->name,
                    *inputs.airgap_images, 0644));
    }
    tar.add_file("etc/systemd/system/k3s.service", k3s_unit(), 0644);
    // The member deploys its own ingress: k3s must not install traefik.
    tar.add_file("var/lib/rancher/k3s/server/manifests/traefik.yaml.skip", "", 0644);
    // k3s upgrades (config/k3s_upgrade.hpp): the controller release and the Plan, applied by
    // k3s's deploy controller when the server starts.
    if (inputs.upgrade_crd && inputs.upgrade_controller) {
      std::string dir = std::string(config::k_suc_dir) + "/";
      TRY(add_input(tar, dir + std::string(config::k_suc_crd_file), *inputs.upgrade_crd, 0644));
      TRY(add_input(tar, dir + std::string(config::k_suc_controller_file), *inputs.upgrade_controller, 0644));
      tar.add_file(dir + std::string(config::k_suc_plan_file), config::upgrade_plan_yaml(profile.k3s.upgrade),
                   0644);
    }
  }
  if (!profile.sysctls.empty()) {
    std::string text = "# Written by binder-image from the profile's sysctls.\n";
    for (const auto& [key, value] : profile.sysctls) {
      text += fmt::format("{} = {}\n", key, value.value);
    }
    tar.add_file("etc/sysctl.d/60-binder.conf", text, 0644);
  }
  if (!profile.cloud_init.datasources.value.empty()) {
    std::string list;
    for (const auto& ds : profile.cloud_init.datasources.value) {
      list += (list.empty() ? "" : ", ") + ds.value;
    }
    tar.add_file("etc/cloud/cloud.cfg.d/90-binder-datasources.cfg",
                 fmt::format("# Written by binder-image.\ndatasource_list: [ {} ]\n", list), 0644);
  }
  if (!profile.ntp.value.empty()) {
    std::string servers;
    for (const auto& s : profile.ntp.value) {
      servers += (servers.empty() ? "" : " ") + s.value;
    }
    // 60-: binder-firstboot's member drop-in (70-binder-member.conf) sorts after it, so
    // node.ntp adds to these servers or, after an empty NTP=, replaces them.
    tar.add_file("etc/systemd/timesyncd.conf.d/60-binder.conf",
                 fmt::format("# Written by binder-image.\n[Time]\nNTP={}\n", servers), 0644);
  }
  return tar;
}

}  // namespace binder::layers::steps
