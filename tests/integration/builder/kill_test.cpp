// Issue 3, "a killed build leaves a usable cache", with a real SIGKILL: a cold build of
// profiles/debian-12-test.yaml runs in its own process group against a private layer cache; once
// the base layer is committed and the system layer is being written by the libguestfs appliance
// (a qemu child of the build), the whole group is SIGKILLed. Then: no process of the build
// survives, no stale lock, `cache ls` lists only committed layers, each passes `qemu-img check`,
// `plan` shows the base as a hit, the output directory holds nothing; a re-run completes reusing
// the base; `cache gc` removes the dead build's partial files and scratch directory. Last, a
// build killed mid-export leaves the previous outputs complete and no tool running on.
#include <catch2/catch.hpp>

#include "kill_support.hpp"

using namespace kill_it;

TEST_CASE("builder: a SIGKILLed build leaves a usable cache", "[builder][kill]") {
  REQUIRE(fs::remove_tree(k_kill_dir));
  REQUIRE(fs::remove_tree(k_cache_home));
  REQUIRE(fs::make_directories(k_kill_dir));
  const std::vector<std::string> build_args{
      "build", k_profile.string(), "--output", k_out.string(), "--accel", "tcg", "--json"};

  // 1-2. A cold build in its own process group; wait until the base layer is committed and the
  // system layer's partial is being written by the appliance (a qemu of the build's group).
  auto t0 = Clock::now();
  std::string killed_pid;
  std::string partial_digest;
  {
    Child child(build_args, k_kill_dir / "killed.out", k_kill_dir / "killed.err");
    killed_pid = std::to_string(child.pid());
    auto deadline = t0 + 300s;
    std::optional<Clock::time_point> qemu_seen;
    std::uintmax_t partial_size0 = 0;
    std::string why;
    while (why.empty()) {
      if (auto st = child.poll()) {
        INFO("stdout:\n" << slurp(k_kill_dir / "killed.out"));
        INFO("stderr:\n" << slurp(k_kill_dir / "killed.err"));
        FAIL("the build ended (wait status " << *st << ") before it could be killed mid-layer");
      }
      if (Clock::now() > deadline) {
        INFO("stdout:\n" << slurp(k_kill_dir / "killed.out"));
        FAIL("no layer was being built by an appliance within 300 s");
      }
      CacheFiles c = scan_cache();
      std::optional<stdfs::path> layer_partial;
      for (const auto& p : c.partials) {
        if (p.filename().string().find(".qcow2.partial-" + killed_pid) != std::string::npos) {
          layer_partial = p;
        }
      }
      bool qemu = group_runs(child.pid(), "qemu-system");
      if (layer_partial && !c.committed.empty() && qemu) {
        std::error_code ec;
        auto size = stdfs::file_size(*layer_partial, ec);
        if (!qemu_seen || !layer_partial->filename().string().starts_with(partial_digest)) {
          qemu_seen = Clock::now();
          partial_size0 = size;
          partial_digest = layer_partial->filename().string().substr(0, 64);
        } else if (!ec && size > partial_size0) {
          why = fmt::format("the guest has written {} bytes into the partial layer", size - partial_size0);
        } else if (since(*qemu_seen) > 20) {
          why = "the appliance has run 20 s";
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    auto events_before = events(slurp(k_kill_dir / "killed.out"));
    CHECK(step_outcome(events_before, "layer:base") == "built");
    CHECK(step_outcome(events_before, "layer:system").empty());

    // 3. SIGKILL the whole group: binder-image, the appliance's qemu, libguestfs' helpers.
    double at = since(t0);
    REQUIRE(::kill(-child.pid(), SIGKILL) == 0);
    int st = child.wait();
    CHECK(WIFSIGNALED(st));
    CHECK(WTERMSIG(st) == SIGKILL);
    WARN("killed the build " << at << " s after its start, " << since(*qemu_seen)
                             << " s after its appliance appeared (" << why << ")");
  }
  expect_no_survivors(std::stoi(killed_pid));

  // 4. The cache is usable. What the kill left: the committed base, the system partial, scratch.
  CacheFiles after = scan_cache();
  std::string left_names;
  for (const auto& e : stdfs::directory_iterator(k_layers)) {
    left_names += " " + e.path().filename().string();
  }
  INFO("the kill left in the cache:" << left_names);
  REQUIRE(after.committed.size() == 1);
  const std::string base_digest = *after.committed.begin();
  CHECK(partial_digest != base_digest);
  CHECK(stdfs::exists(k_layers / (partial_digest + ".qcow2.partial-" + killed_pid)));
  CHECK(stdfs::is_directory(k_layers / ("work.partial-" + killed_pid)));
  for (const auto& p : after.partials) {
    CHECK(p.filename().string().ends_with(".partial-" + killed_pid));
  }
  // No stale lock: a dead build's shared flock is gone, so an exclusive one is granted at once.
  CHECK(binder::layers::CacheLock::acquire(k_layers, binder::layers::CacheLock::Mode::exclusive));

  auto ls = run_private({"cache", "ls"});
  INFO("cache ls:\n" << ls.out << ls.err);
  CHECK(ls.exit_code == 0);
  CHECK(ls.out.find(base_digest.substr(0, 16) + "  base") != std::string::npos);
  CHECK(ls.out.find(partial_digest.substr(0, 16)) == std::string::npos);
  CHECK(ls.out.find("\n1 layer,") != std::string::npos);
  for (const auto& d : after.committed) {
    INFO("qemu-img check of layer " << d);
    auto r = binder::image::check(k_layers / (d + ".qcow2"), "qcow2");
    CHECK(r);
  }

  auto plan = run_private({"plan", k_profile.string()});
  INFO("plan:\n" << plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(plan.out.find("base    hit  " + base_digest.substr(0, 16)) != std::string::npos);
  CHECK(plan.out.find("system  miss " + partial_digest.substr(0, 16)) != std::string::npos);
  CHECK(plan.out.find("3 appliance launches needed") != std::string::npos);  // system, charts, final

  // Nothing was exported: no output, no SHA256SUMS, no manifest, no staging left behind.
  if (stdfs::exists(k_out)) {
    for (const auto& e : stdfs::directory_iterator(k_out)) {
      INFO("left in the output directory: " << e.path());
      CHECK(false);
    }
  }

  // 5. A re-run completes, reusing the base (the system, charts and final layers are built).
  auto t1 = Clock::now();
  auto rerun = run_private(build_args);
  INFO("re-run stderr:\n" << rerun.err);
  REQUIRE(rerun.exit_code == 0);
  auto evs = events(rerun.out);
  CHECK(step_outcome(evs, "layer:base") == "cached");
  CHECK(step_outcome(evs, "layer:system") == "built");
  CHECK(step_outcome(evs, "layer:charts") == "built");
  CHECK(step_outcome(evs, "layer:final") == "built");
  auto done = done_event(rerun.out);
  CHECK(done["layers_cached"] == 1);
  CHECK(done["layers_built"] == 3);
  CHECK(done["launches"] == 3);
  stdfs::path image = k_out / "debian-12-test.qcow2";
  REQUIRE(stdfs::exists(image));
  CHECK(binder::image::check(image, "qcow2"));
  std::string sha = binder::common::hash::sha256_file(image).value();
  std::string sbom_sha = binder::common::hash::sha256_file(k_out / "debian-12-test.spdx.json").value();
  CHECK(fs::read_file(k_out / "SHA256SUMS").value() ==
        sha + "  debian-12-test.qcow2\n" + sbom_sha + "  debian-12-test.spdx.json\n");
  auto manifest = nlohmann::json::parse(fs::read_file(k_out / "manifest.json").value());
  REQUIRE(manifest["outputs"].size() == 2);
  CHECK(manifest["outputs"][0]["sha256"] == sha);
  CHECK(manifest["layers"].size() == 4);
  double rerun_s = since(t1);
  CacheFiles built = scan_cache();
  CHECK(built.committed.size() == 4);
  CHECK(built.committed.contains(base_digest));
  CHECK(built.committed.contains(partial_digest));
  for (const auto& d : built.committed) {
    INFO("qemu-img check of layer " << d);
    CHECK(binder::image::check(k_layers / (d + ".qcow2"), "qcow2"));
  }
  // The re-run cleaned up after itself but not after the dead build: that is gc's job.
  for (const auto& p : built.partials) {
    CHECK(p.filename().string().ends_with(".partial-" + killed_pid));
  }
  CHECK(built.partials.size() == after.partials.size());

  // 6. gc removes the dead build's partial layer and scratch directory, keeps every layer.
  auto gc = run_private({"cache", "gc"});
  INFO("cache gc:\n" << gc.out << gc.err);
  CHECK(gc.exit_code == 0);
  CHECK(gc.out.find("removed 0 layers") != std::string::npos);
  CacheFiles collected = scan_cache();
  CHECK(collected.partials.empty());
  CHECK(collected.committed == built.committed);
  plan = run_private({"plan", k_profile.string()});
  CHECK(plan.out.find("0 appliance launches needed") != std::string::npos);
  ls = run_private({"cache", "ls"});
  CHECK(ls.exit_code == 0);
  CHECK(ls.out.find("\n4 layers,") != std::string::npos);

  // 7. A kill during the export stage (every layer cached, so export starts at once) while the
  // previous build's outputs are in the output directory: they stay complete and consistent.
  auto old_sums = fs::read_file(k_out / "SHA256SUMS").value();
  {
    Child child(build_args, k_kill_dir / "killed-export.out", k_kill_dir / "killed-export.err");
    // Killed once the build's qemu-img has written 16 MiB (of ~210) into the staging directory.
    // It runs in a process group of its own (common/exec), so the group kill misses it: it must
    // die with binder-image (PR_SET_PDEATHSIG in common/exec), not finish the conversion orphaned.
    std::uintmax_t staged = 0;
    for (auto deadline = Clock::now() + 120s;;) {
      if (auto st = child.poll()) {
        INFO("stderr:\n" << slurp(k_kill_dir / "killed-export.err"));
        FAIL("the build ended (wait status " << *st << ") before it could be killed mid-export");
      }
      REQUIRE(Clock::now() < deadline);
      staged = 0;
      for (const auto& d : staging_dirs(k_out)) {
        staged += tree_bytes(d);
      }
      if (staged >= (16u << 20) && group_runs(child.pid(), "qemu-img")) {
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    REQUIRE(::kill(-child.pid(), SIGKILL) == 0);
    int st = child.wait();
    CHECK(WIFSIGNALED(st));
    std::uintmax_t at_kill = 0, later = 0;
    for (const auto& d : staging_dirs(k_out)) {
      at_kill += tree_bytes(d);
    }
    std::this_thread::sleep_for(3s);
    for (const auto& d : staging_dirs(k_out)) {
      later += tree_bytes(d);
    }
    INFO("staged at the kill " << at_kill << " bytes, 3 s later " << later);
    CHECK(later <= at_kill + (8u << 20));  // else an orphaned qemu-img converted on
    expect_no_survivors(child.pid());
    CHECK(step_outcome(events(slurp(k_kill_dir / "killed-export.out")), "export").empty());
    WARN("killed the export with " << staged / (1 << 20) << " MiB of the new output staged");
  }
  // Killed while the new qcow2 was being converted, before publishing: only the three published
  // names are visible, unchanged, and SHA256SUMS describes exactly what is there.
  for (const auto& e : stdfs::directory_iterator(k_out)) {
    std::string name = e.path().filename().string();
    INFO("in the output directory after the export kill: " << name);
    CHECK((name == "debian-12-test.qcow2" || name == "debian-12-test.spdx.json" || name == "SHA256SUMS" ||
           name == "manifest.json" || name.starts_with(".binder-export-")));
  }
  CHECK(fs::read_file(k_out / "SHA256SUMS").value_or("") == old_sums);
  expect_sums_match(k_out);
  CHECK(binder::image::check(image, "qcow2"));
  // The dead build's hidden staging directory (the half-written output) is removed by the next
  // export into the same directory.
  CHECK_FALSE(staging_dirs(k_out).empty());
  auto again = run_private(build_args);
  INFO("build after the export kill:\n" << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(staging_dirs(k_out).empty());
  expect_sums_match(k_out);

  WARN("kill test: " << since(t0) << " s in all; re-run to completion " << rerun_s
                     << " s (build's own figure " << done.value("seconds", 0.0) << " s)");
}
