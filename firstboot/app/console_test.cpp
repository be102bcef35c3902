// The console status block: width and line bounds, no secret ever, failure with its hint, the
// targets (terminals, /etc/issue.d drop-in, marked region of /etc/issue), and the agent writing
// it at each step change.
#include "firstboot/app/console.hpp"

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "firstboot/app/agent.hpp"
#include "firstboot/app/status.hpp"
#include "firstboot/journal.hpp"
#include "support/firstboot/test_member.hpp"
#include "support/firstboot/test_seams.hpp"

using namespace binder::firstboot;
namespace fs = binder::common::fs;
using nlohmann::json;

namespace {

constexpr const char* k_cf_token = "cfTOKEN-0123456789abcdef";
constexpr const char* k_s3_secret = "s3SECRET/abcdefghij+KLMN";
constexpr const char* k_github = "ghp_SECRETabcdefghijklmnop";
constexpr const char* k_harbor_pw = "HarborSECRET-9876543210";

Member member_with_secrets() {
  Member m;
  m.name = "example";
  m.domain = "mybinder.org";
  m.mode = Mode::federation;
  m.dns = DnsConfig{"cloudflare", "mybinder.org", k_cf_token};
  RegistryConfig reg;
  reg.host = "registry.example.mybinder.org";
  reg.s3 = S3Config{"https://s3.example.org", "us-east-1", "registry", "AKIDSECRET12345", k_s3_secret};
  m.registry = reg;
  m.binderhub.github_token = k_github;
  return m;
}

void check_block(const std::vector<std::string>& lines) {
  REQUIRE(!lines.empty());
  CHECK(lines.size() <= app::k_console_max_lines);
  for (const auto& l : lines) {
    INFO(l);
    CHECK(l.size() <= 80);
    CHECK(l.starts_with("binder-firstboot: "));
    CHECK(l.find('\n') == std::string::npos);
  }
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines)
    s += l + "\n";
  return s;
}

}  // namespace

TEST_CASE("console: a failure shows step, cause and hint, never a secret, within 80 columns", "[console]") {
  auto dir = *fs::TempDir::create("console");
  testing::FakeClock clock;
  auto journal = *Journal::open(dir.path() / "journal", clock);
  REQUIRE(journal.put("secrets:generate", "secrets.harbor-admin-password", k_harbor_pw));
  Member m = member_with_secrets();
  // An error that quotes every secret (the worst case: a server echoing what it was sent).
  binder::common::Error e{
      binder::common::Errc::precondition,
      fmt::format("Cloudflare: the API token lacks the permission Zone:DNS:Edit ({} {} {} {} "
                  "AKIDSECRET12345) and then a very long tail that goes on and on well past "
                  "the width of any console",
                  k_cf_token, k_s3_secret, k_github, k_harbor_pw),
      std::nullopt,
      {"step 'dns:records'"}};
  e.hint = fmt::format("the token needs Zone:DNS:Edit on zone 'mybinder.org' (not {})", k_cf_token);
  REQUIRE(journal.append("dns:records", "fp", JournalEvent::begin));
  REQUIRE(journal.append_failure("dns:records", "fp", e));
  json status = {
      {"complete", false},
      {"member", {{"name", "example"}, {"fqdn", "example.mybinder.org"}, {"mode", "federation"}}},
      {"current_step", nullptr},
      {"last_error",
       {{"step", "dns:records"},
        {"message", journal.records().back().detail},
        {"hint", journal.records().back().hint},
        {"time", journal.records().back().time}}},
      {"steps", json::array({{{"id", "metadata"}, {"state", "done"}, {"detail", ""}, {"time", ""}},
                             {{"id", "dns:records"}, {"state", "failed"}, {"detail", ""}, {"time", ""}}})}};
  auto view = app::console_view(status, &m, app::known_secrets(&m, journal), clock.now());
  auto lines = app::render_console_block(view);
  check_block(lines);
  std::string text = joined(lines);
  INFO(text);
  for (const char* secret : {k_cf_token, k_s3_secret, k_github, k_harbor_pw, "AKIDSECRET12345"}) {
    CHECK(text.find(secret) == std::string::npos);
  }
  CHECK(text.find("binder-firstboot: == BinderHub member example.mybinder.org (federation) ==") !=
        std::string::npos);
  CHECK(text.find("binder   https://example.mybinder.org\n") != std::string::npos);
  CHECK(text.find("hub      https://hub.example.mybinder.org\n") != std::string::npos);
  CHECK(text.find("registry https://registry.example.mybinder.org\n") != std::string::npos);
  CHECK(text.find("state    failed at dns:records, 1/2 steps done") != std::string::npos);
  CHECK(
      text.find(
          "cause    Cloudflare: the API token lacks the permission\nbinder-firstboot:          Zone:DNS:Edit") !=
      std::string::npos);
  CHECK(text.find("to fix   the token needs Zone:DNS:Edit on zone 'mybinder.org'") != std::string::npos);
  CHECK(text.find("<redacted>") != std::string::npos);
}

TEST_CASE("console: long names are cut to 80 columns, a running step shows its elapsed time", "[console]") {
  app::ConsoleView v;
  v.fqdn = std::string(70, 'a') + ".mybinder.org";
  v.mode = "standalone";
  v.urls = {{"binder", "https://" + v.fqdn}, {"hub", "https://hub." + v.fqdn}};
  v.state = "running";
  v.step = "mybinder:chart";
  v.elapsed_s = 133.0;
  v.done = 13;
  v.total = 18;
  auto lines = app::render_console_block(v);
  check_block(lines);
  CHECK(joined(lines).find("state    running mybinder:chart for 2m13.0s, 13/18 steps done") !=
        std::string::npos);
  CHECK(lines[0].ends_with("..."));

  app::ConsoleView none;  // before the metadata was read
  none.state = "starting";
  auto first = app::render_console_block(none);
  check_block(first);
  CHECK(first[0] == "binder-firstboot: == BinderHub member (metadata not loaded yet) ==");
}

TEST_CASE("console: terminals, the issue.d drop-in, or the marked lines of /etc/issue", "[console]") {
  auto dir = *fs::TempDir::create("console");
  app::ConsoleTargets t;
  t.terminals = {dir.path() / "console", dir.path() / "tty1", dir.path() / "absent-tty"};
  t.issue_dir = dir.path() / "issue.d";
  t.issue = dir.path() / "issue";
  REQUIRE(fs::write_file_atomic(dir.path() / "console", ""));
  REQUIRE(fs::write_file_atomic(dir.path() / "tty1", ""));
  REQUIRE(fs::write_file_atomic(t.issue, "Ubuntu 24.04 LTS \\n \\l\n\n"));
  std::vector<std::string> one = {"binder-firstboot: == one ==", "binder-firstboot: path C:\\x"};
  std::vector<std::string> two = {"binder-firstboot: == two =="};

  // No issue.d: the marked lines of /etc/issue, replaced in place; agetty escapes doubled.
  REQUIRE(app::write_console_block(one, t));
  REQUIRE(app::write_console_block(two, t));
  CHECK(*fs::read_file(t.issue) == "Ubuntu 24.04 LTS \\n \\l\n\nbinder-firstboot: == two ==\n");
  REQUIRE(app::write_console_block(one, t));
  CHECK(*fs::read_file(t.issue) ==
        "Ubuntu 24.04 LTS \\n \\l\n\nbinder-firstboot: == one ==\nbinder-firstboot: path C:\\\\x\n");
  // Terminals get every block appended, like a log; an absent one is skipped.
  CHECK(*fs::read_file(dir.path() / "console") ==
        "\n" + joined(one) + "\n" + joined(two) + "\n" + joined(one));
  CHECK(*fs::read_file(dir.path() / "tty1") == *fs::read_file(dir.path() / "console"));
  CHECK(!std::filesystem::exists(dir.path() / "absent-tty"));

  // With issue.d: a drop-in, /etc/issue left alone.
  std::filesystem::create_directories(t.issue_dir);
  std::string issue = *fs::read_file(t.issue);
  REQUIRE(app::write_console_block(two, t));
  CHECK(*fs::read_file(t.issue_dir / "50-binder-firstboot.issue") == "binder-firstboot: == two ==\n");
  CHECK(*fs::read_file(t.issue) == issue);
}

TEST_CASE("console: the agent writes the block at each step change and when it ends", "[console][agent]") {
  auto dir = *fs::TempDir::create("console-agent");
  REQUIRE(fs::write_file_atomic(dir.path() / "etc/binder-image/member.yaml", testing::k_standalone_member));
  REQUIRE(
      fs::write_file_atomic(dir.path() / "etc/binder-image/member.d/50-typo.yaml", "node: {ntpp: [x]}\n"));
  REQUIRE(fs::write_file_atomic(dir.path() / "dev/console", ""));
  std::filesystem::create_directories(dir.path() / "etc/issue.d");
  testing::FakeRunner runner;
  testing::FakeClock clock;
  app::AgentOptions o;
  o.root = dir.path();
  o.federation = false;
  app::ConsoleTargets t;
  t.terminals = {dir.path() / "dev/console"};
  t.issue_dir = dir.path() / "etc/issue.d";
  t.issue = dir.path() / "etc/issue";
  o.report.console = t;
  o.report.refresh = std::chrono::milliseconds(0);

  // Invalid metadata: the block names the step and the cause (exit 2).
  CHECK(app::run_agent(o, runner, clock) == 2);
  std::string issue = *fs::read_file(t.issue_dir / "50-binder-firstboot.issue");
  INFO(issue);
  CHECK(issue.find("binder-firstboot: == BinderHub member (metadata not loaded yet) ==") !=
        std::string::npos);
  CHECK(issue.find("state    failed at metadata") != std::string::npos);
  CHECK(issue.find("cause    ") != std::string::npos);
  CHECK(issue.find("unknown key 'ntpp'") != std::string::npos);
  CHECK(issue.find("to fix   fix the member metadata (user-data or") != std::string::npos);

  // Fixed: every step change appends a block to the console; the last one says complete.
  REQUIRE(fs::write_file_atomic(dir.path() / "etc/binder-image/member.d/50-typo.yaml", "node: {ntp: [x]}\n"));
  CHECK(app::run_agent(o, runner, clock) == 0);
  issue = *fs::read_file(t.issue_dir / "50-binder-firstboot.issue");
  CHECK(issue.find("binder-firstboot: == BinderHub member example.mybinder.org (standalone) ==") !=
        std::string::npos);
  CHECK(issue.find("binder   https://example.mybinder.org") != std::string::npos);
  CHECK(issue.find("state    complete, ") != std::string::npos);
  std::string console = *fs::read_file(dir.path() / "dev/console");
  std::size_t blocks = 0;
  for (std::size_t p = 0; (p = console.find("== BinderHub member", p)) != std::string::npos; ++p)
    ++blocks;
  CHECK(blocks >= 2 * 11);  // begin + done of the 11 steps, at least
  CHECK(console.find("state    running host:hostname") != std::string::npos);
}
