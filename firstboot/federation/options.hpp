// Settings of the federation steps that do not come from member metadata: where the vendor APIs
// are (real endpoints by default; tests and the smoke boot point them at fakes), which CA to
// trust for them, the kubeconfig, and how long to wait for Harbor and the deployments. A wait
// that times out is Errc::temporary: binder-firstboot exits 75 and systemd runs it again later.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/http.hpp"

namespace binder::firstboot::federation {

struct FederationOptions {
  std::string cloudflare_api = "https://api.cloudflare.com/client/v4";
  // Empty: https://<registry host>/api/v2.0 (the member's own Harbor through its ingress).
  std::string harbor_api;
  // Empty: the endpoint from metadata registry.s3.endpoint.
  std::string s3_endpoint;
  // Timeouts, retries and CA for the vendor APIs (ca_file empty: the system store).
  common::http::Options http;
  // The k3s admin kubeconfig, a system path mapped through Env::path().
  std::string kubeconfig = "/etc/rancher/k3s/k3s.yaml";
  // Non-empty: the Harbor admin password to journal instead of generating one (a CI job that
  // must log into a Harbor it did not deploy). Recorded like a generated one.
  std::string harbor_admin_password;
  std::chrono::milliseconds harbor_timeout{std::chrono::minutes(20)};
  std::chrono::milliseconds deploy_timeout{std::chrono::minutes(30)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(5)};
};

// Defaults overridden by the environment (smoke boot, operators debugging a member):
//   BINDER_FIRSTBOOT_CLOUDFLARE_API, BINDER_FIRSTBOOT_HARBOR_API, BINDER_FIRSTBOOT_S3_ENDPOINT,
//   BINDER_FIRSTBOOT_CA_FILE (a CA trusted for all three, in addition to the system store),
//   BINDER_FIRSTBOOT_HARBOR_ADMIN_PASSWORD, BINDER_FIRSTBOOT_WAIT_SCALE (a factor applied to
//   the waits, e.g. 0.01 in tests), BINDER_FIRSTBOOT_TEST_CONNECT_TO (test-only: curl-style
//   connect-to rules sending the public names' connections to the smoke boot's fakes).
FederationOptions options_from_environment();

}  // namespace binder::firstboot::federation
