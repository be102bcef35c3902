// See manifest.hpp.
#include "pipeline/manifest.hpp"

#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "image/archive.hpp"

namespace binder::pipeline {

std::string manifest_json(const config::Profile& profile, const layers::ResolvedInputs& in,
                          const layers::LayerPlan& plan, const std::vector<exporter::ExportedFile>& outputs) {
  using nlohmann::json;
  json inputs = json::array();
  auto put = [&](const char* role, const layers::InputFile& f) {
    inputs.push_back(json{{"role", role}, {"name", f.name}, {"sha256", f.sha256}});
  };
  put(in.base_is_rootfs ? "base-rootfs" : "base-image", in.base);
  if (in.k3s_binary) {
    put("k3s-binary", *in.k3s_binary);
  }
  if (in.airgap_images) {
    put("k3s-airgap-images", *in.airgap_images);
  }
  if (in.upgrade_crd) {
    put("k3s-upgrade-crd", *in.upgrade_crd);
  }
  if (in.upgrade_controller) {
    put("k3s-upgrade-controller", *in.upgrade_controller);
  }
  put("firstboot-binary", in.firstboot_binary);
  if (in.member) {
    put("member", *in.member);
  }
  if (in.charts) {
    const auto& c = in.charts->charts_json;
    auto hex = [](std::string d) { return d.starts_with("sha256:") ? d.substr(7) : d; };
    inputs.push_back(json{{"role", "chart-source"},
                          {"name", c["mybinder"]["source"]["url"]},
                          {"commit", c["mybinder"]["source"]["commit"]},
                          {"sha256", c["mybinder"]["source"]["sha256"]}});
    for (const auto& d : c["mybinder"]["dependencies"]) {
      inputs.push_back(
          json{{"role", "chart-dependency"},
               {"name", d["name"].get<std::string>() + "-" + d["version"].get<std::string>() + ".tgz"},
               {"url", d["url"]},
               {"sha256", hex(d["digest"].get<std::string>())}});
    }
    inputs.push_back(
        json{{"role", "chart-cert-manager"},
             {"name", "cert-manager-" + c["cert_manager"]["version"].get<std::string>() + ".tgz"},
             {"sha256", c["cert_manager"]["sha256"]}});
    inputs.push_back(json{{"role", "chart-cert-manager-crds"},
                          {"name", c["cert_manager"]["crds_url"]},
                          {"sha256", c["cert_manager"]["crds_sha256"]}});
  }
  json layers = json::array();
  for (const auto& l : plan.layers) {
    layers.push_back(json{{"kind", std::string(l.step->kind())}, {"digest", l.digest}});
  }
  json outs = json::array();
  for (const auto& o : outputs) {
    outs.push_back(json{{"file", o.path.filename().string()},
                        {"format", o.format},
                        {"compression", o.compression},
                        {"size", o.size},
                        {"sha256", o.sha256}});
  }
  json j{{"format", "binder-manifest-v1"},
         {"profile", profile.name.value},
         {"builder_version", BINDER_VERSION},
         {"k3s_version", in.k3s_binary ? profile.k3s.version.value : ""},
         {"source_date_epoch", in.file_time},
         {"inputs", inputs},
         {"charts", in.charts ? in.charts->charts_json : json(nullptr)},
         {"layers", layers},
         {"outputs", outs}};
  return j.dump(2) + "\n";
}

Result<void> write_manifest(const std::filesystem::path& out_dir, const std::string& text) {
  return common::fs::write_file_atomic(out_dir / "manifest.json", text, 0644);
}

}  // namespace binder::pipeline
