// unified_diff and the handover bundle, checked with the real tools: `git apply --check` (and
// `patch -p1 --dry-run`) in a temp git repository holding the upstream files at the pinned
// commit. config/prod.yaml comes from shared/reference/mybinder (verbatim at that commit); the
// other upstream files (deploy.py and the workflows) are not in this repository, so they are
// read from a local clone of jupyterhub/mybinder.org-deploy when one is found
// ($BINDER_MYBINDER_DEPLOY_GIT, a git dir holding the commit); without one those sections are
// checked for their anchors' blob ids only and a warning says so.
#include "firstboot/render/handover_bundle.hpp"

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/exec.hpp"
#include "common/fs.hpp"
#include "firstboot/render/mybinder_files.hpp"
#include "firstboot/render/sizing.hpp"
#include "firstboot/render/unified_diff.hpp"
#include "firstboot/render/yaml.hpp"
#include "support/firstboot/render_fixtures.hpp"

using namespace binder::firstboot;
using namespace binder::firstboot::render;
namespace exec = binder::common::exec;
namespace fs = binder::common::fs;

namespace {

const std::string k_prod_yaml = std::string(BINDER_SHARED_DIR) + "/reference/mybinder/prod.yaml";

exec::Output run_in(const std::filesystem::path& dir, std::vector<std::string> argv, std::string in = {}) {
  exec::Options o;
  o.cwd = dir;
  o.stdin_data = std::move(in);
  o.env = {{"GIT_CONFIG_NOSYSTEM", "1"}, {"HOME", dir.string()}};
  auto r = exec::run(argv, o);
  REQUIRE(r);
  return *r;
}

struct Repo {
  fs::TempDir dir = *fs::TempDir::create("diff-test");
  Repo() { REQUIRE(run_in(dir.path(), {"git", "init", "-q", "."}).exit_code == 0); }
  void write(const std::string& rel, const std::string& text) {
    REQUIRE(fs::write_file_atomic(dir.path() / rel, text));
  }
  std::string read(const std::string& rel) { return *fs::read_file(dir.path() / rel); }
  exec::Output apply(const std::string& patch, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"git", "apply"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("-");
    return run_in(dir.path(), argv, patch);
  }
};

std::string numbered(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i)
    s += "line " + std::to_string(i) + "\n";
  return s;
}

// Upstream text of `path` at the pinned commit from a local clone, if there is one.
std::optional<std::string> upstream(const std::string& path) {
  const char* env = std::getenv("BINDER_MYBINDER_DEPLOY_GIT");
  if (!env || !std::filesystem::exists(env))
    return std::nullopt;
  std::string git_dir = env;
  auto r =
      exec::run({"git", "--git-dir=" + git_dir, "show", std::string(k_mybinder_deploy_commit) + ":" + path});
  if (!r || r->exit_code != 0)
    return std::nullopt;
  return r->out;
}

std::string git_blob_id(const std::string& text) {
  auto r = exec::run({"git", "hash-object", "--stdin"}, exec::Options{.stdin_data = text});
  REQUIRE(r);
  return r->out.substr(0, 40);
}

HandoverInputs example_inputs() {
  Member m = fixtures::example_member();
  auto size = size_machine(fixtures::machine(64, 16), m);
  SecretsView secrets = SecretsView::from_member(m);
  secrets.set(secret::harbor_admin_password, "HarborAdmin-SECRET-4");
  secrets.set(secret::builder_robot_secret, "robot-SECRET-5");
  HandoverInputs in;
  in.cluster = "example";
  in.binder_host = "example.mybinder.org";
  in.config_text = mybinder_file_text(m, mybinder_config(m, size), false);
  in.secrets_text = mybinder_file_text(m, mybinder_secrets(m, secrets), true);
  in.kubeconfig_text =
      "apiVersion: v1\nusers:\n- name: example\n  user:\n    client-key-data: KEY-SECRET-6\n";
  in.member_overrides = {"minesweeper.enabled: false (needs git-crypt files)"};
  return in;
}

}  // namespace

TEST_CASE("new_file_diff is what git apply and patch accept", "[diff]") {
  Repo repo;
  std::string text = "a: 1\nb:\n  - x\n";
  auto d = new_file_diff("config/new.yaml", text);
  CHECK(
      d.starts_with("diff --git a/config/new.yaml b/config/new.yaml\nnew file mode 100644\n--- /dev/null\n"));
  CHECK(d.find("@@ -0,0 +1,3 @@\n+a: 1\n+b:\n+  - x\n") != std::string::npos);
  auto r = repo.apply(d);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(repo.read("config/new.yaml") == text);
  // patch(1) reads the same text.
  Repo other;
  CHECK(run_in(other.dir.path(), {"patch", "-p1", "--dry-run"}, d).exit_code == 0);

  SECTION("no newline at the end") {
    Repo r2;
    auto d2 = new_file_diff("x.txt", "one\ntwo");
    CHECK(d2.ends_with("+two\n\\ No newline at end of file\n"));
    REQUIRE(r2.apply(d2).exit_code == 0);
    CHECK(r2.read("x.txt") == "one\ntwo");
  }
  SECTION("one line") {
    CHECK(new_file_diff("y", "only\n").find("@@ -0,0 +1 @@\n+only\n") != std::string::npos);
  }
}

TEST_CASE("insertion_diff applies where its context matches, and only there", "[diff]") {
  Repo repo;
  repo.write("f.txt", numbered(12));
  // After line 5 and after line 9: context lines 3-5 / 6-8 and 7-9 / 10-12.
  std::vector<InsertionHunk> hunks = {
      {3, {"line 3", "line 4", "line 5"}, {"new A"}, {"line 6", "line 7", "line 8"}},
      {7, {"line 7", "line 8", "line 9"}, {"new B", "new C"}, {"line 10", "line 11", "line 12"}}};
  // Overlapping context is not allowed in one section: use the second hunk with less context.
  hunks[1] = {9, {"line 9"}, {"new B", "new C"}, {"line 10", "line 11", "line 12"}};
  auto d = insertion_diff("f.txt", hunks);
  CHECK(d.find("@@ -3,6 +3,7 @@\n") != std::string::npos);
  CHECK(d.find("@@ -9,4 +10,6 @@\n") != std::string::npos);
  auto check = repo.apply(d, {"--check"});
  INFO(d << check.err);
  REQUIRE(check.exit_code == 0);
  CHECK(run_in(repo.dir.path(), {"patch", "-p1", "--dry-run"}, d).exit_code == 0);
  REQUIRE(repo.apply(d).exit_code == 0);
  auto lines = split_lines(repo.read("f.txt"));
  REQUIRE(lines.size() == 15);
  CHECK(lines[5] == "new A");
  CHECK(lines[10] == "new B");
  CHECK(lines[11] == "new C");
  CHECK(lines[12] == "line 10");

  SECTION("a file whose context differs is refused, not patched by guess") {
    Repo changed;
    std::string text = numbered(12);
    text.replace(text.find("line 4"), 6, "LINE 4");
    changed.write("f.txt", text);
    CHECK(changed.apply(d, {"--check"}).exit_code != 0);
    CHECK(changed.read("f.txt") == text);
  }
}

TEST_CASE("split_lines", "[diff]") {
  CHECK(split_lines("") == std::vector<std::string>{});
  CHECK(split_lines("a\n\nb") == std::vector<std::string>{"a", "", "b"});
  CHECK(split_lines("a\n") == std::vector<std::string>{"a"});
}

TEST_CASE("the handover patch applies to mybinder.org-deploy at the pinned commit", "[handover]") {
  auto in = example_inputs();
  std::string patch = mybinder_deploy_patch(in);
  Repo repo;
  auto prod = fs::read_file(k_prod_yaml);
  REQUIRE(prod);
  repo.write("config/prod.yaml", *prod);
  // The anchors were copied from the files with these blob ids; prod.yaml's is the reference copy's.
  std::map<std::string, std::string> blobs;
  for (const auto& [path, blob] : patched_upstream_files())
    blobs[path] = blob;
  CHECK(blobs.size() == 5);
  CHECK(blobs["config/prod.yaml"] == git_blob_id(*prod));

  std::vector<std::string> others = {"deploy.py", ".github/workflows/cd.yml",
                                     ".github/workflows/test-helm-template.yaml",
                                     ".github/workflows/prune-harbor.yaml"};
  bool have_all = true;
  for (const auto& p : others) {
    auto text = upstream(p);
    if (!text) {
      have_all = false;
      continue;
    }
    CHECK(blobs[p] == git_blob_id(*text));
    repo.write(p, *text);
  }
  std::vector<std::string> scope;
  if (!have_all) {
    WARN(
        "no clone of mybinder.org-deploy at the pinned commit (set BINDER_MYBINDER_DEPLOY_GIT): "
        "checking config/ only");
    scope = {"--include=config/*"};
  }
  auto check_args = scope;
  check_args.push_back("--check");
  auto r = repo.apply(patch, check_args);
  INFO(patch << r.err);
  REQUIRE(r.exit_code == 0);
  if (have_all) {  // GNU patch reads it the same way
    CHECK(run_in(repo.dir.path(), {"patch", "-p1", "--dry-run"}, patch).exit_code == 0);
  }
  REQUIRE(repo.apply(patch, scope).exit_code == 0);

  // The member's config is the exported text, byte for byte.
  CHECK(repo.read("config/example.yaml") == in.config_text);
  // The redirector host at weight 0, the other hosts untouched.
  auto doc = from_yaml(repo.read("config/prod.yaml"), "prod.yaml");
  REQUIRE(doc);
  auto hosts = (*doc)["federationRedirect"]["hosts"];
  CHECK(hosts["example"] == nlohmann::json{{"prime", false},
                                           {"url", "https://example.mybinder.org"},
                                           {"weight", 0},
                                           {"health", "https://example.mybinder.org/health"},
                                           {"versions", "https://example.mybinder.org/versions"}});
  CHECK(hosts["bids-ovh"]["weight"] == 50);
  CHECK(hosts.size() == 4);
  if (have_all) {
    CHECK(repo.read("deploy.py").find("    \"bids-ovh\",\n    \"example\",\n}\n") != std::string::npos);
    auto cd = from_yaml(repo.read(".github/workflows/cd.yml"), "cd.yml");
    REQUIRE(cd);
    auto rows = (*cd)["jobs"]["prod-deploy"]["strategy"]["matrix"]["include"];
    CHECK(rows.back() == nlohmann::json{{"federation_member", "example"},
                                        {"chartpress_args", ""},
                                        {"helm_version", ""},
                                        {"experimental", false}});
    auto tht = from_yaml(repo.read(".github/workflows/test-helm-template.yaml"), "tht");
    REQUIRE(tht);
    CHECK((*tht)["jobs"]["helm-template"]["strategy"]["matrix"]["include"].back() ==
          nlohmann::json{{"release", "example"}, {"k3s-channel", "v1.34"}});
    auto prune = from_yaml(repo.read(".github/workflows/prune-harbor.yaml"), "prune");
    REQUIRE(prune);
    CHECK((*prune)["jobs"]["prune-harbor"]["strategy"]["matrix"]["include"].back() ==
          nlohmann::json{{"name", "example"}});
  }
}

TEST_CASE("the bundle keeps secrets out of the patch and README", "[handover]") {
  auto in = example_inputs();
  auto files = handover_bundle(in);
  REQUIRE(files.size() == 4);
  std::vector<std::string> secrets = {"cf-token-SECRET-1",    "AKIA-SECRET-2",  "s3-SECRET-3",
                                      "HarborAdmin-SECRET-4", "robot-SECRET-5", "KEY-SECRET-6"};
  // The secret files do hold them (else this test could not fail).
  CHECK(in.secrets_text.find("s3-SECRET-3") != std::string::npos);
  CHECK(in.secrets_text.find("robot-SECRET-5") != std::string::npos);
  for (const auto& f : files) {
    INFO(f.path);
    if (f.secret) {
      CHECK((f.path == "secrets/example-kubeconfig.yaml" || f.path == "secrets/config/example.yaml"));
      continue;
    }
    for (const auto& s : secrets)
      CHECK(f.text.find(s) == std::string::npos);
  }
  auto readme = files[1].text;
  CHECK(readme.find("git-crypt") != std::string::npos);
  CHECK(readme.find("weight: 0") != std::string::npos);
  CHECK(readme.find("minesweeper.enabled: false") != std::string::npos);
  CHECK(readme.find(k_mybinder_deploy_commit) != std::string::npos);
}
