// binder-image build end to end on the Debian 12 test base: what the image holds (read with
// libguestfs), the outputs and manifest, the layer cache (no launch after an overlay change),
// inspect, and bad input. One shared image (builder_fixture.hpp) keeps the suite short.
#include <set>

#include <catch2/catch.hpp>

#include "builder_fixture.hpp"
#include "image/guestfs.hpp"
#include "image/qemu_img.hpp"

using namespace builder_it;
using binder::image::Access;
using binder::image::Drive;
using binder::image::Guest;

namespace {

Guest open_ro(const stdfs::path& image) {
  auto g = Guest::launch({Drive{image, "qcow2", Access::read_only}},
                         {{{"LIBGUESTFS_BACKEND_SETTINGS", "force_tcg"}}, 0});
  REQUIRE(g);
  REQUIRE(g->mount_root(Access::read_only));
  return std::move(*g);
}

std::string read(Guest& g, const std::string& path) {
  auto r = g.read(path);
  INFO(path);
  REQUIRE(r);
  return *r;
}

bool is_file(Guest& g, const std::string& p) { return g.is_file(p).value_or(false); }
bool is_link(Guest& g, const std::string& p) { return g.is_symlink(p).value_or(false); }
bool exists(Guest& g, const std::string& p) { return g.exists(p).value_or(true); }

}  // namespace

TEST_CASE("builder: the image holds every configured item and nothing it must not", "[builder]") {
  Built b = shared_image();
  CHECK(b.cold.value("launches", -1) == 0);  // a rootfs base: every layer is written on the host
  Guest g = open_ro(b.image);

  // k3s: binary, links, airgap images, unit installed but not enabled, traefik skipped.
  CHECK(is_file(g, "/usr/local/bin/k3s"));
  for (const char* tool : {"kubectl", "crictl", "ctr"}) {
    CHECK(is_link(g, fmt::format("/usr/local/bin/{}", tool)));
    CHECK(g.readlink(fmt::format("/usr/local/bin/{}", tool)).value_or("") == "k3s");
  }
  CHECK(is_file(g, "/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst"));
  // k3s's import cache opted in: present and empty (an entry would skip the first import).
  CHECK(is_file(g, "/var/lib/rancher/k3s/agent/images/.cache.json"));
  CHECK(read(g, "/var/lib/rancher/k3s/agent/images/.cache.json").empty());
  CHECK(is_file(g, "/etc/systemd/system/k3s.service"));
  CHECK(g.glob("/etc/systemd/system/*.wants/k3s.service").value().empty());
  CHECK(is_file(g, "/var/lib/rancher/k3s/server/manifests/traefik.yaml.skip"));
  // k3s upgrades: the system-upgrade-controller release (the mirror's stand-ins, verified against
  // the default pins) and mybinder's Plan, byte for byte, in the server manifests dir.
  {
    const std::string dir = "/var/lib/rancher/k3s/server/manifests/";
    const std::string mirror = BINDER_SHARED_DIR "/reference/mirror/system-upgrade-controller/v0.20.1/";
    CHECK(read(g, dir + "system-upgrade-00-crd.yaml") == fs::read_file(mirror + "crd.yaml").value());
    std::string controller = read(g, dir + "system-upgrade-10-controller.yaml");
    CHECK(controller == fs::read_file(mirror + "system-upgrade-controller.yaml").value());
    CHECK(controller.starts_with("apiVersion: v1\nkind: Namespace\nmetadata:\n"));  // creates system-upgrade
    CHECK(read(g, dir + "system-upgrade-20-plan.yaml") ==
          fs::read_file(BINDER_SHARED_DIR "/reference/mybinder/k3s-upgrade-plan.yaml").value());
    CHECK(g.glob(dir + "*").value().size() == 4);  // with traefik.yaml.skip, nothing else
  }

  // System settings.
  std::string sysctl = read(g, "/etc/sysctl.d/60-binder.conf");
  CHECK(sysctl.find("fs.inotify.max_user_instances = 8192") != std::string::npos);
  CHECK(sysctl.find("fs.inotify.max_user_watches = 524288") != std::string::npos);
  CHECK(read(g, "/etc/cloud/cloud.cfg.d/90-binder-datasources.cfg").find("[ NoCloud, None ]") !=
        std::string::npos);
  CHECK(read(g, "/etc/systemd/timesyncd.conf.d/60-binder.conf").find("NTP=ntp.example.test") !=
        std::string::npos);

  // Charts layer (the charts contract): packaged charts, CRDs, mybinder files, charts.json.
  auto charts = nlohmann::json::parse(read(g, "/etc/binder-image/charts.json"));
  CHECK(charts["schema"] == 1);
  CHECK(charts["mybinder"]["version"] == "2020.12.4-0.dev.git.7587.h95860dbc");
  CHECK(charts["mybinder"]["excluded_files"] ==
        nlohmann::json::array({"files/minesweeper/secrets/herorat.py"}));
  for (const char* key : {"file", "crds_file"}) {
    const auto& part = std::string(key) == "file" ? charts["mybinder"] : charts["cert_manager"];
    std::string path = part[key].get<std::string>();
    INFO(path);
    CHECK(path.starts_with("/var/lib/rancher/k3s/server/static/charts/"));
    CHECK(is_file(g, path));
  }
  CHECK(binder::common::hash::sha256_hex(read(g, charts["mybinder"]["file"].get<std::string>())) ==
        charts["mybinder"]["sha256"]);
  CHECK(is_file(g, charts["cert_manager"]["file"].get<std::string>()));
  CHECK(is_file(g, "/usr/share/binder-image/mybinder/config/cert-manager.yaml"));
  CHECK(is_file(g, "/usr/share/binder-image/mybinder/mybinder/values.yaml"));
  CHECK(is_file(g, "/usr/share/binder-image/mybinder/cert-manager.env"));

  // Final layer: overlays, firstboot and its enabled unit, build.json.
  CHECK(read(g, "/etc/motd").find("binder-image") != std::string::npos);
  CHECK(is_file(g, "/etc/systemd/journald.conf.d/50-binder.conf"));
  CHECK(is_file(g, "/etc/binder-test-extra"));
  CHECK(is_file(g, "/usr/local/sbin/binder-firstboot"));
  CHECK(is_file(g, "/etc/systemd/system/binder-firstboot.service"));
  CHECK(is_link(g, "/etc/systemd/system/multi-user.target.wants/binder-firstboot.service"));
  auto build = nlohmann::json::parse(read(g, "/etc/binder-image/build.json"));
  CHECK(build["profile"] == "debian-12-test");
  CHECK(build["k3s_version"] == "v1.33.5+k3s1");
  CHECK(build["inputs"]["k3s_binary"]["sha256"].get<std::string>().size() == 64);
  CHECK(build["k3s_upgrade"]["controller_version"] == "v0.20.1");
  CHECK(build["k3s_upgrade"]["channel"] == "https://update.k3s.io/v1-release/channels/stable");
  CHECK(build["k3s_upgrade"]["files"].size() == 3);
  CHECK(build["k3s_upgrade"]["files"][0]["sha256"] ==
        "68a2e6b786dc3a3d47f0ac557b06833d2f773d801f482f43d37c7e819309c656");

  // Hygiene: nothing machine-specific or secret.
  CHECK(read(g, "/etc/machine-id").empty());
  CHECK_FALSE(exists(g, "/var/lib/dbus/machine-id"));
  CHECK(g.glob("/etc/ssh/ssh_host_*").value().empty());
  CHECK_FALSE(exists(g, "/var/lib/rancher/k3s/server/db"));
  CHECK_FALSE(exists(g, "/var/lib/rancher/k3s/server/tls"));
  CHECK_FALSE(exists(g, "/var/lib/rancher/k3s/server/token"));
  CHECK(g.glob("/var/lib/cloud/*").value().empty());
  CHECK(g.glob("/var/log/cloud-init*").value().empty());
  CHECK(g.glob("/var/lib/apt/lists/*Packages*").value().empty());
  CHECK_FALSE(exists(g, "/root/.bash_history"));
  CHECK((is_link(g, "/etc/resolv.conf") || is_file(g, "/etc/resolv.conf")));
  if (exists(g, "/lib/systemd/systemd-resolved")) {
    CHECK(g.readlink("/etc/resolv.conf").value_or("") == "../run/systemd/resolve/stub-resolv.conf");
  }
}

TEST_CASE("builder: outputs, manifest.json and SHA256SUMS are complete", "[builder]") {
  Built b = shared_image();
  auto info = binder::image::info(b.image);
  REQUIRE(info);
  CHECK(info->format == "qcow2");
  CHECK_FALSE(info->backing_filename);
  CHECK(info->virtual_size == 3ull << 30);
  CHECK(binder::image::check(b.image, "qcow2"));
  auto manifest = nlohmann::json::parse(fs::read_file(b.out_dir / "manifest.json").value());
  CHECK(manifest["profile"] == "debian-12-test");
  CHECK(manifest["layers"].size() == 4);  // base, system, charts, final
  // The baked charts: in the manifest with every resolved input, and in the SBOM.
  REQUIRE(manifest["charts"].is_object());
  CHECK(manifest["charts"]["mybinder"]["dependencies"].size() == 10);
  int chart_inputs = 0;
  for (const auto& in : manifest["inputs"]) {
    chart_inputs += in["role"].get<std::string>().starts_with("chart-") ? 1 : 0;
  }
  CHECK(chart_inputs == 13);                 // source, 10 dependencies, cert-manager chart and CRDs
  REQUIRE(manifest["outputs"].size() == 2);  // the image and its SBOM
  std::string sha = binder::common::hash::sha256_file(b.image).value();
  CHECK(manifest["outputs"][0]["sha256"] == sha);
  std::string sums = fs::read_file(b.out_dir / "SHA256SUMS").value();
  CHECK(sums.find(sha) != std::string::npos);

  // SBOM: SPDX 2.3 of the packages in the image's dpkg status (the base rootfs has these).
  stdfs::path sbom_path = b.out_dir / "debian-12-test.spdx.json";
  CHECK(manifest["outputs"][1]["file"] == "debian-12-test.spdx.json");
  CHECK(manifest["outputs"][1]["format"] == "spdx-json");
  std::string sbom_sha = binder::common::hash::sha256_file(sbom_path).value();
  CHECK(manifest["outputs"][1]["sha256"] == sbom_sha);
  CHECK(sums.find(sbom_sha + "  debian-12-test.spdx.json") != std::string::npos);
  auto sbom = nlohmann::json::parse(fs::read_file(sbom_path).value());
  CHECK(sbom["spdxVersion"] == "SPDX-2.3");
  std::set<std::string> names;
  for (const auto& pkg : sbom["packages"]) {
    names.insert(pkg["name"].get<std::string>());
    if (pkg["name"] == "systemd") {
      CHECK(pkg["externalRefs"][0]["referenceLocator"].get<std::string>().starts_with(
          "pkg:deb/debian/systemd@"));
      CHECK(pkg["externalRefs"][0]["referenceLocator"].get<std::string>().find("distro=debian-12") !=
            std::string::npos);
    }
  }
  for (const char* p :
       {"systemd", "cloud-init", "linux-image-cloud-amd64", "dpkg", "mybinder", "mybinder.org-deploy",
        "binderhub", "traefik", "harbor", "cert-manager", "cert-manager-crds"}) {
    CHECK(names.count(p) == 1);
  }
  CHECK(names.size() > 100);
  for (const auto& in : manifest["inputs"]) {
    CHECK(in["sha256"].get<std::string>().size() == 64);
  }
  for (const auto& e : stdfs::directory_iterator(b.out_dir)) {
    CHECK(e.path().filename().string().find("tmp") == std::string::npos);
  }
}

TEST_CASE("builder: inspect reports a clean image", "[builder]") {
  Built b = shared_image();
  auto r = run_binder({"inspect", b.image.string(), "--json", "--accel", "tcg"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["ok"] == true);
  CHECK(j["k3s_version"] == "v1.33.5+k3s1");
  CHECK(j["checks"].size() >= 8);
  CHECK(j["k3s_upgrade"]["files"].size() == 3);
  bool upgrade_checked = false;
  for (const auto& c : j["checks"]) {
    if (c.value("name", "") == "k3s upgrade files present")
      upgrade_checked = c.value("ok", false);
  }
  CHECK(upgrade_checked);
  // The hygiene and provenance checks, each named and passing.
  std::map<std::string, bool> by_name;
  for (const auto& c : j["checks"])
    by_name[c.value("name", "")] = c.value("ok", false);
  for (const char* name :
       {"machine-id empty", "no SSH host keys", "no k3s server state or token",
        "no cloud-init instance state", "no core files", "/var/log small", "k3s import cache empty"}) {
    INFO(name);
    CHECK(by_name.contains(name));
    CHECK(by_name[name]);
  }
  auto text = run_binder({"inspect", b.image.string(), "--accel", "tcg"});
  CHECK(text.out.find("[ok] no core files\n") != std::string::npos);
  CHECK(text.out.find("[ok] k3s import cache empty\n") != std::string::npos);
  CHECK(text.out.find("k3s upgrade:  system-upgrade-controller v0.20.1, Plan follows channel "
                      "https://update.k3s.io/v1-release/channels/stable") != std::string::npos);
  CHECK(text.out.find("/var/lib/rancher/k3s/server/manifests/system-upgrade-10-controller.yaml") !=
        std::string::npos);
}

TEST_CASE("builder: inspect names each hygiene check that fails on a crafted image", "[builder]") {
  // A bare ext4 filesystem labelled 'root' (inspect mounts it as the root) holding what a clean
  // image must not: one libguestfs launch reads it all.
  stdfs::path dir = k_dir / "crafted";
  stdfs::remove_all(dir);
  auto put = [&](const std::string& rel, const std::string& data) {
    stdfs::create_directories((dir / "src" / rel).parent_path());
    REQUIRE(fs::write_file_atomic(dir / "src" / rel, data));
  };
  put("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  put("etc/ssh/ssh_host_ed25519_key", "key");
  put("var/lib/rancher/k3s/server/token", "t");
  put("var/lib/cloud/data/instance-id", "i-1\n");
  put("var/lib/cloud/instances/i-1/boot-finished", "x\n");
  put("var/lib/systemd/coredump/core.k3s.0.zst", "core");
  put("var/log/syslog", std::string(2u << 20, 'l'));
  put("var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst", "zst");
  stdfs::path raw = dir / "crafted.raw";
  REQUIRE(exec::run_checked(
      {"mke2fs", "-q", "-F", "-t", "ext4", "-L", "root", "-d", (dir / "src").string(), raw.string(), "64M"}));
  auto r = run_binder({"inspect", raw.string(), "--json", "--accel", "tcg"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["ok"] == false);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& c : j["checks"])
    by_name[c.value("name", "")] = c;
  const std::map<std::string, std::string> expect = {
      {"machine-id empty", "0123456789abcdef"},
      {"no SSH host keys", "/etc/ssh/ssh_host_ed25519_key"},
      {"no k3s server state or token", "/var/lib/rancher/k3s/server/token"},
      {"no cloud-init instance state", "/var/lib/cloud/data/instance-id"},
      {"no core files", "/var/lib/systemd/coredump/core.k3s.0.zst"},
      {"/var/log small", "largest /var/log/syslog (2097152 bytes)"},
      {"k3s import cache empty", ".cache.json missing"},
  };
  for (const auto& [name, detail] : expect) {
    INFO(name << ": " << by_name[name].dump());
    REQUIRE(by_name.contains(name));
    CHECK(by_name[name]["ok"] == false);
    CHECK(by_name[name].value("detail", "").find(detail) != std::string::npos);
  }
  CHECK(by_name["no cloud-init instance state"].value("detail", "").find("/var/lib/cloud/instances/i-1") !=
        std::string::npos);
  stdfs::remove_all(dir);
}

TEST_CASE("builder: an overlay change rebuilds only the final layer, without a launch", "[builder]") {
  Built b = shared_image();
  auto plan = run_binder({"plan", profile_path().string()});
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("0 appliance launches needed") != std::string::npos);

  REQUIRE(fs::write_file_atomic(extra_file(), fmt::format("extra v{}\n", ::time(nullptr))));
  plan = run_binder({"plan", profile_path().string()});
  CHECK(plan.out.find("file 'etc/binder-test-extra' changed") != std::string::npos);
  CHECK(plan.out.find("0 appliance launches needed") != std::string::npos);
  std::string content = fs::read_file(extra_file()).value();

  stdfs::path warm_out = k_dir / "out-warm";
  auto r = run_binder(
      {"build", profile_path().string(), "--output", warm_out.string(), "--accel", "tcg", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto done = done_event(r.out);
  CHECK(done["launches"] == 0);
  CHECK(done["layers_built"] == 1);
  CHECK(done["layers_cached"] == 3);
  // The change is in the exported image (read back with libguestfs) and the image stays clean.
  stdfs::path warm_image = warm_out / "debian-12-test.qcow2";
  CHECK(binder::image::check(warm_image, "qcow2"));
  Guest g = open_ro(warm_image);
  CHECK(read(g, "/etc/binder-test-extra") == content);
  CHECK(read(g, "/etc/machine-id").empty());
  CHECK(is_link(g, "/etc/systemd/system/multi-user.target.wants/binder-firstboot.service"));
  auto inspect = run_binder({"inspect", warm_image.string(), "--json", "--accel", "tcg"});
  INFO(inspect.err);
  CHECK(inspect.exit_code == 0);
  // inspect reports the packaged charts and checks their files are in the image.
  auto report = nlohmann::json::parse(inspect.out, nullptr, false);
  REQUIRE(report.is_object());
  CHECK(report["charts"]["mybinder"].value("chart", "") == "mybinder");
  CHECK(report["charts"]["cert_manager"].value("version", "") == "v1.20.2");
  bool charts_checked = false;
  for (const auto& c : report["checks"]) {
    if (c.value("name", "") == "packaged charts present")
      charts_checked = c.value("ok", false);
  }
  CHECK(charts_checked);
  WARN("cold build " << b.cold.value("seconds", 0.0) << " s, warm rebuild " << done.value("seconds", 0.0)
                     << " s");
}

TEST_CASE("builder: with host-side layers off, the final layer falls back to one appliance", "[builder]") {
  Built b = shared_image();
  REQUIRE(fs::write_file_atomic(extra_file(), fmt::format("fallback {}\n", ::time(nullptr))));
  std::string content = fs::read_file(extra_file()).value();
  stdfs::path out = k_dir / "out-fallback";
  auto r =
      run_binder({"build", profile_path().string(), "--output", out.string(), "--accel", "tcg", "--json"},
                 std::chrono::seconds(1200), {{"BINDER_IMAGE_HOST_LAYERS", "0"}});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto done = done_event(r.out);
  CHECK(done["launches"] == 1);
  CHECK(done["layers_built"] == 1);
  stdfs::path image = out / "debian-12-test.qcow2";
  Guest g = open_ro(image);
  CHECK(read(g, "/etc/binder-test-extra") == content);
  CHECK(read(g, "/etc/machine-id").empty());
  CHECK(stdfs::exists(out / "debian-12-test.spdx.json"));
}

TEST_CASE("builder: bad inputs fail with one clear error and leave nothing behind", "[builder]") {
  write_profile();
  stdfs::path out = k_dir / "out-bad";
  REQUIRE(fs::remove_tree(out));

  SECTION("a wrong checksum names the file, exit 1") {
    auto r = run_binder({"build", profile_path().string(), "--accel", "tcg", "--output", out.string(),
                         "--set", "k3s.binary.sha256=" + std::string(64, '0')});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("k3s") != std::string::npos);
    CHECK(r.err.find("expected") != std::string::npos);
  }
  SECTION("a k3s.upgrade file whose sha256 differs is refused, naming the key, exit 1") {
    auto r = run_binder({"build", profile_path().string(), "--accel", "tcg", "--output", out.string(),
                         "--set", "k3s.upgrade.crd_sha256=" + std::string(64, '0')});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("k3s.upgrade.crd_url") != std::string::npos);
    CHECK(r.err.find(std::string(64, '0')) != std::string::npos);
    CHECK_FALSE(stdfs::exists(out / "debian-12-test.qcow2"));
  }
  SECTION("k3s.upgrade.enable=false changes the system layer (plan names the setting)") {
    auto r = run_binder({"plan", profile_path().string(), "--set", "k3s.upgrade.enable=false"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("k3s.upgrade.enable") != std::string::npos);
  }
  SECTION("a missing k3s artifact names the key, exit 2") {
    auto r = run_binder({"build", profile_path().string(), "--accel", "tcg", "--output", out.string(),
                         "--set", "k3s.airgap_images.file=/nonexistent/airgap.tar.zst"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("/nonexistent/airgap.tar.zst") != std::string::npos);
  }
  SECTION("a corrupt base image names the file, exit 1 or 2") {
    stdfs::path bad = k_dir / "corrupt.qcow2";
    std::string junk = std::string("QFI\xfb") + std::string(4096, 'x');
    REQUIRE(fs::write_file_atomic(bad, junk));
    std::string sha = binder::common::hash::sha256_hex(junk);
    auto r = run_binder({"build", profile_path().string(), "--accel", "tcg", "--output", out.string(),
                         "--set", "base={file: " + bad.string() + ", sha256: " + sha + "}"});
    CHECK((r.exit_code == 1 || r.exit_code == 2));
    CHECK(r.err.find("corrupt.qcow2") != std::string::npos);
  }
  SECTION("an overlay carrying an SSH host key names the overlay and the path, exit 2") {
    stdfs::path dirty = k_dir / "overlays" / "dirty";
    REQUIRE(fs::write_file_atomic(dirty / "etc/ssh/ssh_host_ed25519_key", "not a real key\n", 0600));
    stdfs::path prof = k_dir / "profiles" / "dirty.yaml";
    REQUIRE(fs::write_file_atomic(prof, fmt::format("extends: {}\noverlays: [../overlays/dirty]\n",
                                                    (k_src / "profiles/debian-12-test.yaml").string())));
    auto r = run_binder({"build", prof.string(), "--accel", "tcg", "--output", out.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("dirty.yaml:2") != std::string::npos);
    CHECK(r.err.find("overlay '../overlays/dirty'") != std::string::npos);
    CHECK(r.err.find("/etc/ssh/ssh_host_ed25519_key") != std::string::npos);
    CHECK(r.err.find("not a real key") == std::string::npos);
  }
  SECTION("an unreachable chart repository names chart, version and URL, exit 1") {
    auto r =
        run_binder({"build", profile_path().string(), "--accel", "tcg", "--output", out.string(), "--set",
                    "charts.repository_mirrors={\"https://\": \"http://127.0.0.1:1/\", "
                    "\"oci://\": \"oci+http://127.0.0.1:1/\"}"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("chart 'binderhub' version '1.0.0-0.dev.git.3983.h383374de' from "
                     "'http://127.0.0.1:1/jupyterhub.github.io/helm-chart/index.yaml'") != std::string::npos);
  }
  SECTION("a corrupt dependency archive is a digest mismatch, exit 1, nothing cached under its name") {
    // A copy of the fixture repositories whose harbor archive no longer matches index.yaml.
    stdfs::path repos = k_dir / "corrupt-charts";
    REQUIRE(fs::remove_tree(repos));
    REQUIRE(fs::make_directories(repos));
    stdfs::copy(test_env().at("BINDER_TEST_CHARTS") + "/repos", repos / "repos",
                stdfs::copy_options::recursive);
    stdfs::path harbor = repos / "repos/helm.goharbor.io/harbor-1.18.1.tgz";
    std::string bytes = fs::read_file(harbor).value();
    bytes.back() = static_cast<char>(bytes.back() ^ 0xff);
    REQUIRE(fs::write_file_atomic(harbor, bytes));
    auto r =
        run_binder({"build", profile_path().string(), "--accel", "tcg", "--output", out.string(), "--set",
                    "charts.repository_mirrors={\"https://\": \"file://" + (repos / "repos").string() +
                        "/\", \"oci://\": \"file://" + (repos / "repos").string() + "/\"}"},
                   std::chrono::seconds(600), {{"XDG_CACHE_HOME", (repos / "cache").string()}});
    // (A fresh download cache: the shared one holds the verified archive under its digest and
    // would rightly serve it without reading the corrupt copy.)
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("chart 'harbor' version '1.18.1'") != std::string::npos);
    CHECK(r.err.find("checksum mismatch") != std::string::npos);
    std::error_code ec;
    for (auto it = stdfs::recursive_directory_iterator(repos / "cache/binder-image/downloads", ec);
         it != stdfs::recursive_directory_iterator(); ++it) {
      INFO(it->path());
      CHECK(it->path().filename().string().find("harbor") == std::string::npos);
    }
  }
  SECTION("a chartpress placeholder without a pin names values.yaml and the path, exit 2") {
    auto r =
        run_binder({"build", profile_path().string(), "--accel", "tcg", "--output", out.string(), "--set",
                    "charts.mybinder.images={podLogs.image: \"jupyterhub/mybinder.org-rsyslog:1\"}"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("mybinder/values.yaml:") != std::string::npos);
    CHECK(r.err.find("unresolvable chartpress tag") != std::string::npos);
  }
  SECTION("an unknown profile key is a config error, exit 2") {
    auto r = run_binder({"build", profile_path().string(), "--set", "k3s.versoin=v1"});
    CHECK(r.exit_code == 2);
  }
  CHECK_FALSE(stdfs::exists(out / "debian-12-test.qcow2"));
  auto cache_dir = k_dir / "cache" / "binder-image" / "layers";
  if (stdfs::exists(cache_dir)) {
    for (const auto& e : stdfs::directory_iterator(cache_dir)) {
      CHECK(e.path().string().find(".partial") == std::string::npos);
    }
  }
}
