// Test fixture of the federation join: the three schema-checking fakes (Cloudflare, Harbor,
// Kubernetes; tests/support) plus the signature-checking S3 fake (tests/support/fakes/s3_fake.py),
// a temp root with the fake cluster's kubeconfig at /etc/rancher/k3s/k3s.yaml, a federation
// member pointing at all of them, and helpers to run the steps through the real runner and
// journal, and to read the fakes' request logs.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include <catch2/catch.hpp>

#include "common/fs.hpp"
#include "firstboot/app/steps.hpp"
#include "firstboot/env.hpp"
#include "firstboot/federation/steps.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/runner.hpp"
#include "support/fake_s3.hpp"
#include "support/fake_server.hpp"
#include "support/firstboot/image_charts_fixture.hpp"

namespace binder::federation_test {

using namespace std::chrono_literals;
namespace fb = binder::firstboot;
namespace test = binder::test;

// The fake's credentials; the requests are signed with them.
class FakeS3 : public test::FakeS3 {
 public:
  FakeS3() : test::FakeS3("AKIDTEST", "s3/Secret+Key") {}
};

inline fb::Member test_member(fb::Mode mode = fb::Mode::federation) {
  fb::Member m;
  m.name = "example";
  m.domain = "mybinder.org";
  m.mode = mode;
  m.public_ip = "203.0.113.7";
  m.dns = fb::DnsConfig{"cloudflare", "mybinder.org", test::k_fake_cloudflare_token};
  m.tls.email = "ops@example.org";
  fb::RegistryConfig reg;
  reg.host = "registry.example.mybinder.org";
  reg.s3 = fb::S3Config{"https://unused.invalid", "us-east-1", "registry", "AKIDTEST", "s3/Secret+Key"};
  reg.quota_gb = 10000;
  m.registry = reg;
  return m;
}

// The member's and the federation's public names (step readiness): the fakes' certificate
// carries them, and the HTTP client's connect_to rules send them to the fakes.
inline const std::vector<std::string> k_public_sans = {"DNS:example.mybinder.org",
                                                       "DNS:*.example.mybinder.org", "DNS:2i2c.mybinder.org",
                                                       "DNS:mybinder.org", "DNS:ghcr.io"};

struct Fakes {
  test::TestPki pki = test::TestPki::create(k_public_sans);
  test::FakeServer cloudflare{test::FakeKind::cloudflare, pki};
  test::FakeServer harbor{test::FakeKind::harbor, pki};
  test::FakeServer kube{
      test::FakeKind::kube, pki, {.extra_args = {"--helm-delay", "0.2", "--ready-delay", "0.2"}}};
  test::FakeServer web{test::FakeKind::web, pki};  // member_web.py: /health, /versions, ...
  FakeS3 s3;

  fb::federation::FederationOptions options() const {
    fb::federation::FederationOptions o;
    o.cloudflare_api = cloudflare.api_base();
    o.harbor_api = harbor.api_base();
    o.s3_endpoint = s3.endpoint();
    o.http.ca_file = pki.ca_cert();
    o.http.max_attempts = 4;
    o.http.backoff_base = 20ms;
    o.http.backoff_max = 2s;
    o.http.request_timeout = 5s;
    o.harbor_timeout = 20s;
    o.deploy_timeout = 20s;
    o.poll_interval = 100ms;
    for (const char* host : {"example.mybinder.org", "hub.example.mybinder.org", "2i2c.mybinder.org",
                             "mybinder.org", "ghcr.io"}) {
      o.http.connect_to.push_back({host, 443, "127.0.0.1", web.port()});
    }
    o.http.connect_to.push_back({"registry.example.mybinder.org", 443, "127.0.0.1", harbor.port()});
    return o;
  }
  void reset() {
    cloudflare.reset();
    harbor.reset();
    kube.reset();
  }
  // Every request the fakes saw that could change state.
  int writes() const {
    int n = 0;
    for (const auto* f : {&cloudflare, &harbor, &kube}) {
      for (const auto& r : f->requests()) {
        std::string m = r.value("method", "");
        if (m != "GET" && m != "HEAD")
          ++n;
      }
    }
    return n;
  }
  void check_no_violations() const {
    for (const auto* f : {&cloudflare, &harbor, &kube}) {
      INFO(test::to_string(f->kind()) << " violations: " << f->violations().dump());
      CHECK(f->violations().empty());
    }
  }
};

// The join steps of firstboot_steps() (the ones after k3s:ready), in order.
inline fb::StepList join_steps(const fb::Member& member, const fb::federation::FederationOptions& options) {
  fb::app::AgentOptions o;
  o.join = options;
  auto host_k3s = fb::app::firstboot_step_ids(member.node.role, member.mode, false);
  fb::StepList out;
  for (auto& s : fb::app::firstboot_steps(member, o)) {
    if (std::find(host_k3s.begin(), host_k3s.end(), s->id()) == host_k3s.end())
      out.push_back(std::move(s));
  }
  return out;
}

// One agent "boot": a journal over root, an Env with the real clock, the federation steps.
struct Run {
  Run(const std::filesystem::path& root, const Fakes& fakes, fb::Member member,
      const fb::federation::FederationOptions& options)
      : journal(*fb::Journal::open(root / "var/lib/binder-firstboot/journal", clock)),
        env(root, std::move(member), facts(), runner, clock, journal),
        steps(join_steps(env.member, options)) {
    (void)fakes;
  }
  static fb::MachineFacts facts() {
    fb::MachineFacts f;
    f.ram_bytes = 16ULL << 30;
    f.cpus = 4;
    f.public_ip = "203.0.113.7";
    f.public_ip_source = "metadata";
    return f;
  }
  common::Result<fb::RunSummary> run() { return fb::run_steps(steps, env, journal); }

  fb::SystemClock clock;
  fb::SystemCommandRunner runner;
  fb::Journal journal;
  fb::Env env;
  fb::StepList steps;
};

// A temp root holding the fake cluster's kubeconfig where k3s writes it, the image's packaged
// charts (support/firstboot/image_charts_fixture.hpp), and (optionally) the
// Harbor admin password the fake expects, journaled as if the secrets step had generated it.
inline common::fs::TempDir make_root(const Fakes& fakes) {
  auto dir = *common::fs::TempDir::create("fed-test");
  auto text = *common::fs::read_file(fakes.kube.write_kubeconfig());
  fb::render::fixtures::write_image_charts(dir.path());
  REQUIRE(common::fs::write_file_atomic(dir.path() / "etc/rancher/k3s/k3s.yaml", text, 0600));
  fb::SystemClock clock;
  auto journal = fb::Journal::open(dir.path() / "var/lib/binder-firstboot/journal", clock);
  REQUIRE(journal);
  REQUIRE(journal->put("test", fb::federation::secret_output_key("harbor-admin-password"),
                       test::k_fake_harbor_admin_password));
  return dir;
}

}  // namespace binder::federation_test
