// See inspect.hpp.
#include "pipeline/inspect.hpp"

#include <set>

#include "common/hash.hpp"
#include "image/guestfs.hpp"
#include "image/qemu_img.hpp"

namespace binder::pipeline {

using nlohmann::json;

bool InspectReport::ok() const {
  for (const auto& c : checks) {
    if (!c.ok) {
      return false;
    }
  }
  return true;
}

namespace {

// The packaged charts (charts/bake.hpp): the manifest and a check that every file it names is in
// the image (the firstboot agent refuses to deploy otherwise).
Result<void> inspect_charts(image::Guest& g, InspectReport& r) {
  r.charts = json();
  TRY_ASSIGN(bool has, g.is_file("/etc/binder-image/charts.json"));
  if (!has)
    return {};
  TRY_ASSIGN(std::string text, g.read("/etc/binder-image/charts.json"));
  r.charts = json::parse(text, nullptr, false);
  std::string missing;
  if (!r.charts.is_object()) {
    missing = "charts.json is not a JSON object";
  } else {
    for (const char* part : {"mybinder", "cert_manager"}) {
      const json& c = r.charts.value(part, json::object());
      for (const char* key : {"file", "crds_file"}) {
        if (!c.contains(key))
          continue;
        std::string f = c[key].is_string() ? c[key].get<std::string>() : "";
        TRY_ASSIGN(bool present, g.is_file(f));
        if (!present)
          missing += (missing.empty() ? "" : ", ") + f;
      }
    }
  }
  r.checks.push_back(layers::steps::CheckResult{"packaged charts present", missing.empty(), missing});
  return {};
}

// k3s upgrades (build.json k3s_upgrade): every file it names is in the image with its sha256.
Result<void> inspect_k3s_upgrade(image::Guest& g, InspectReport& r) {
  r.k3s_upgrade = r.build.is_object() ? r.build.value("k3s_upgrade", json()) : json();
  if (!r.k3s_upgrade.is_object()) {
    r.k3s_upgrade = json();
    return {};
  }
  std::string bad;
  for (const auto& f : r.k3s_upgrade.value("files", json::array())) {
    std::string path = f.value("path", "");
    TRY_ASSIGN(bool present, g.is_file(path));
    std::string why;
    if (!present) {
      why = "missing";
    } else {
      TRY_ASSIGN(std::string data, g.read(path));
      if (common::hash::sha256_hex(data) != f.value("sha256", ""))
        why = "sha256 differs from build.json";
    }
    if (!why.empty())
      bad += fmt::format("{}{} {}", bad.empty() ? "" : ", ", path, why);
  }
  r.checks.push_back(layers::steps::CheckResult{"k3s upgrade files present", bad.empty(), bad});
  return {};
}

}  // namespace

Result<InspectReport> inspect_image(const std::filesystem::path& path, base::AccelMode mode) {
  InspectReport r;
  r.image = path;
  TRY_ASSIGN(image::ImageInfo info, image::info(path));
  r.format = info.format;
  TRY_ASSIGN(base::Accel accel, base::choose_accel(mode));
  image::GuestOptions opts{base::guestfs_env(accel), 0};
  TRY_ASSIGN(image::Guest g,
             image::Guest::launch({image::Drive{path, info.format, image::Access::read_only}}, opts));
  TRY_CTX(g.mount_root(image::Access::read_only), "inspecting '{}'", path.string());
  TRY_ASSIGN(bool has_build, g.is_file("/etc/binder-image/build.json"));
  r.build = json();
  if (has_build) {
    TRY_ASSIGN(std::string text, g.read("/etc/binder-image/build.json"));
    r.build = json::parse(text, nullptr, false);
    if (r.build.is_discarded()) {
      r.build = json("unparsable: " + text.substr(0, 200));
    } else if (r.build.is_object()) {
      r.k3s_version = r.build.value("k3s_version", "");
    }
  }
  TRY_ASSIGN(r.k3s_binary, g.is_file("/usr/local/bin/k3s"));
  TRY(inspect_charts(g, r));
  TRY(inspect_k3s_upgrade(g, r));
  std::set<std::string> units;
  for (const char* dir : {"/etc/systemd/system/*.wants/*", "/lib/systemd/system/*.wants/*"}) {
    TRY_ASSIGN(auto found, g.glob(dir));
    for (const auto& f : found) {
      if (dir[1] == 'e') {
        units.insert(f.substr(f.rfind('/') + 1));
      }
    }
  }
  r.enabled_units.assign(units.begin(), units.end());
  TRY_ASSIGN(auto hygiene, layers::steps::image_checks(g));
  r.checks.insert(r.checks.end(), hygiene.begin(), hygiene.end());
  r.checks.push_back(layers::steps::CheckResult{"build.json present", has_build && r.build.is_object(),
                                                has_build ? "" : "missing"});
  if (!r.k3s_version.empty()) {
    r.checks.push_back(layers::steps::CheckResult{"k3s binary present", r.k3s_binary,
                                                  r.k3s_binary ? "" : "/usr/local/bin/k3s missing"});
  }
  TRY(g.shutdown());
  return r;
}

std::string format_report(const InspectReport& r) {
  std::string out = fmt::format("image:        {} ({})\n", r.image.string(), r.format);
  if (r.build.is_object()) {
    out += fmt::format("profile:      {}\n", r.build.value("profile", ""));
    out += fmt::format("builder:      {}\n", r.build.value("builder_version", ""));
  }
  out += fmt::format("k3s:          {}{}\n", r.k3s_version.empty() ? "none" : r.k3s_version,
                     r.k3s_binary ? " (binary present)" : "");
  if (r.charts.is_object()) {
    for (const char* part : {"mybinder", "cert_manager"}) {
      const json& c = r.charts.value(part, json::object());
      out += fmt::format("chart:        {} {} ({})\n", c.value("chart", part), c.value("version", "?"),
                         c.value("file", "?"));
    }
  } else {
    out += "charts:       none packaged\n";
  }
  if (r.k3s_upgrade.is_object()) {
    const json& u = r.k3s_upgrade;
    out += fmt::format(
        "k3s upgrade:  system-upgrade-controller {}, Plan follows {}\n", u.value("controller_version", "?"),
        u.contains("version") ? "version " + u.value("version", "") : "channel " + u.value("channel", ""));
    for (const auto& f : u.value("files", json::array())) {
      out += fmt::format("  {} ({})\n", f.value("path", ""), f.value("source", ""));
    }
  } else {
    out += "k3s upgrade:  none (no system-upgrade-controller baked)\n";
  }
  out += "enabled units (/etc/systemd/system):\n";
  for (const auto& u : r.enabled_units) {
    out += fmt::format("  {}\n", u);
  }
  out += "checks:\n";
  for (const auto& c : r.checks) {
    out += fmt::format("  [{}] {}{}\n", c.ok ? "ok" : "FAIL", c.name,
                       !c.ok && !c.detail.empty() ? ": " + c.detail : "");
  }
  if (r.build.is_object()) {
    out += "build.json:\n" + r.build.dump(2) + "\n";
  }
  return out;
}

json report_json(const InspectReport& r) {
  json checks = json::array();
  for (const auto& c : r.checks) {
    checks.push_back(json{{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
  }
  return json{{"image", r.image.string()},
              {"format", r.format},
              {"build", r.build},
              {"k3s_version", r.k3s_version},
              {"k3s_binary", r.k3s_binary},
              {"charts", r.charts},
              {"k3s_upgrade", r.k3s_upgrade},
              {"enabled_units", r.enabled_units},
              {"checks", checks},
              {"ok", r.ok()}};
}

}  // namespace binder::pipeline
