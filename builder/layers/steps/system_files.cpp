// See system_files.hpp.
#include "layers/steps/system_files.hpp"

#include <regex>

#include "common/fs.hpp"
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
Result<void> add_input(image::TarBuilder& tar, const std::string& path, const InputFile& f, mode_t mode) {
  if (f.path.empty()) {
    tar.add_file(path, "not downloaded yet: sha256=" + f.sha256, mode);
    return {};
  }
  return tar.add_host_file(path, f.path, mode);
}

// The name grammar of a container image reference (distribution/reference): [host[:port]/]path
// components, then :tag and/or @sha256:digest.
bool is_image_reference(const std::string& s) {
  static const std::regex k_ref(
      R"((([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(:[0-9]+)?/)?[a-z0-9]+([._-]+[a-z0-9]+)*)"
      R"((/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?)");
  return s.size() <= 255 && std::regex_match(s, k_ref);
}

}  // namespace

Result<std::string> read_image_list(const stdfs::path& path, const common::SourceLoc& loc) {
  TRY_ASSIGN(std::string text, common::fs::read_file(path));
  if (text.empty()) {
    return common::fail(common::Errc::invalid_config, "{}: image list '{}' is empty", loc.to_string(),
                        path.string());
  }
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (!is_image_reference(line)) {
      return common::fail(common::Errc::invalid_config,
                          "{}:{}: '{}' is not an image reference (one a line, e.g. "
                          "'docker.io/library/busybox:1.36'; no blank lines or comments) in the "
                          "image list named at {}",
                          path.string(), line_no, line.substr(0, 80), loc.to_string());
    }
  }
  return text;
}

Result<image::TarBuilder> system_tree(const config::Profile& profile, const ResolvedInputs& inputs) {
  image::TarBuilder tar;
  if (inputs.k3s_binary) {
    TRY(add_input(tar, "usr/local/bin/k3s", *inputs.k3s_binary, 0755));
    for (const char* tool : {"kubectl", "crictl", "ctr"}) {
      tar.add_symlink(fmt::format("usr/local/bin/{}", tool), "k3s");
    }
    std::string images = std::string(k_k3s_images_dir) + "/";
    if (inputs.airgap_images) {
      TRY(add_input(tar, images + inputs.airgap_images->name, *inputs.airgap_images, 0644));
    }
    for (const auto& list : profile.k3s.image_lists.value) {
      TRY_ASSIGN(std::string text, read_image_list(list.value, list.loc));
      tar.add_file(images + list.value.filename().string(), text, 0644);
    }
    // Opts in to k3s's import cache (k3s >= 1.33.1, 1.32.5, 1.31.9, 1.30.13): k3s records each
    // archive it imported here and skips unchanged ones on later starts, so a reboot does not
    // re-import the airgap images before the kubelet starts. k3s never creates the file itself;
    // it must be empty (as `touch` makes it): an entry baked in would skip the first import.
    tar.add_file(images + std::string(k_k3s_import_cache), "", 0644);
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
