// Helpers shared by the federation steps (internal to firstboot/federation): the Kubernetes and
// vendor API clients built from the Env and the options, the SecretsView filled from the journal,
// get-or-generate of journaled secrets, and waits on the clock seam.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "firstboot/env.hpp"
#include "firstboot/federation/options.hpp"
#include "firstboot/federation/steps.hpp"
#include "firstboot/k3s/kube_client.hpp"
#include "firstboot/render/charts_manifest.hpp"
#include "firstboot/render/mybinder_release.hpp"
#include "firstboot/render/secrets_view.hpp"

namespace binder::firstboot::federation {

// Secret names the secrets step generates (render::secret names).
const std::vector<std::string_view>& generated_secret_names();

// The value journaled under secret_output_key(name), or, when absent, `make()` recorded in the
// journal (and registered with the log redactor) BEFORE it is returned for use.
Result<std::string> ensure_secret(Env& env, std::string_view name,
                                  const std::function<Result<std::string>()>& make);

// Member S3 keys + every journaled secret; unknown names render as placeholders.
render::SecretsView secrets_view(const Env& env);

// A client for the local k3s API from options.kubeconfig (mapped through env.path()).
Result<KubeClient> kube_client(Env& env, const FederationOptions& options);

// "https://<registry host>/api/v2.0" unless options.harbor_api is set.
std::string harbor_api(const Env& env, const FederationOptions& options);

// Applies a manifest, logging "created"/"updated"; true when something changed.
Result<bool> apply_logged(KubeClient& kube, const nlohmann::json& manifest);

// Waits until every Deployment in `ns` is ready and each of `names` exists (none named: at
// least one). Errc::temporary on timeout with the reasons of the ones not ready.
Result<void> wait_deployments(Env& env, KubeClient& kube, const FederationOptions& options,
                              const std::string& ns, const std::vector<std::string>& names);

// The member's public IP (metadata, else machine facts); Errc::precondition if unknown.
Result<std::string> public_ip(const Env& env);

// The image's charts (render/charts_manifest.hpp) under env's root, sha256 verified.
Result<render::ImageCharts> image_charts(const Env& env);
// The mybinder release of this member (render/mybinder_release.hpp) with the journaled secrets.
Result<render::MybinderRelease> mybinder_release(const Env& env);
// Applies the release's values Secret (secrets/config/<cluster>.yaml); refuses placeholders.
Result<bool> apply_release_values(Env& env, KubeClient& kube);

// Waits for `probe` like KubeClient::wait_until, but the timeout error (Errc::temporary) also
// quotes the last probe error ("TLS certificate verification failed ...").
Result<void> wait_for(Env& env, const FederationOptions& options, std::string_view what,
                      std::chrono::milliseconds timeout, const std::function<Result<bool>()>& probe);

}  // namespace binder::firstboot::federation
