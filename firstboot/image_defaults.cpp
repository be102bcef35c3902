// See image_defaults.hpp.
#include "firstboot/image_defaults.hpp"

#include <nlohmann/json.hpp>

#include "common/fs.hpp"

namespace binder::firstboot {

Result<KubeletDefaults> read_image_kubelet(const std::filesystem::path& root) {
  const auto path = root / std::filesystem::path(k_build_json_path).relative_path();
  KubeletDefaults d;
  TRY_ASSIGN(auto text, common::fs::read_file_if_exists(path));
  if (!text) {
    d.source = "built-in default (no " + std::string(k_build_json_path) + ")";
    return d;
  }
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return common::fail(Errc::invalid_config, "'{}' is not a JSON object", path.string());
  }
  auto it = doc.find("kubelet");
  if (it == doc.end() || it->is_null()) {
    d.source = "built-in default (" + std::string(k_build_json_path) + " has no kubelet section)";
    return d;
  }
  if (!it->is_object()) {
    return common::fail(Errc::invalid_config, "'{}': key 'kubelet' must be an object", path.string());
  }
  const nlohmann::json& k = *it;
  if (auto f = k.find("max_pods_per_gib"); f != k.end()) {
    if (!f->is_number() || f->get<double>() <= 0 || f->get<double>() > 50) {
      return common::fail(Errc::invalid_config,
                          "'{}': kubelet.max_pods_per_gib must be a number in (0, 50], got {}", path.string(),
                          f->dump());
    }
    d.max_pods_per_gib = f->get<double>();
  }
  auto percent = [&](const char* key, int& out, int lo) -> Result<void> {
    auto f = k.find(key);
    if (f == k.end())
      return {};
    if (!f->is_number_integer() || f->get<int>() < lo || f->get<int>() > 100) {
      return common::fail(Errc::invalid_config,
                          "'{}': kubelet.{} must be an integer percentage ({}-100), got {}", path.string(),
                          key, lo, f->dump());
    }
    out = f->get<int>();
    return {};
  };
  TRY(percent("image_gc_high", d.image_gc_high, 1));
  TRY(percent("image_gc_low", d.image_gc_low, 0));
  if (d.image_gc_low >= d.image_gc_high) {
    return common::fail(Errc::invalid_config,
                        "'{}': kubelet.image_gc_low ({}) must be below kubelet.image_gc_high ({})",
                        path.string(), d.image_gc_low, d.image_gc_high);
  }
  d.source = "image profile kubelet.max_pods_per_gib (" + std::string(k_build_json_path) + ")";
  return d;
}

}  // namespace binder::firstboot
