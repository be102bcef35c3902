// The handover bundle: what mybinder.org operators need to take a member over with central CD
// (issue 10; member spec Step 10 and Step 14), written by `binder-firstboot handover` into
// /var/lib/binder-firstboot/export/handover/:
//   mybinder.org-deploy.patch          `git apply`-able against jupyterhub/mybinder.org-deploy at
//                                      k_mybinder_deploy_commit: adds config/<cluster>.yaml, the
//                                      KUBECONFIG_CLUSTERS entry in deploy.py, the CD matrix rows
//                                      (cd.yml prod-deploy, test-helm-template.yaml,
//                                      prune-harbor.yaml) and the redirector host in
//                                      config/prod.yaml at weight 0. No secret in it.
//   secrets/<cluster>-kubeconfig.yaml  where deploy.py reads it (git-crypt in the central repo)
//   secrets/config/<cluster>.yaml      the member's secret values (git-crypt)
//   README.md                          for the operators: apply, commit, review, ramp up
// The upstream context lines of the patch were copied from that commit (the "anchors" in
// handover_bundle.cpp, each with the file's git blob id); no upstream file is embedded whole.
// The two secret files and everything else are written 0600 by the caller.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace binder::firstboot::render {

inline constexpr const char* k_mybinder_deploy_repo = "jupyterhub/mybinder.org-deploy";
inline constexpr const char* k_mybinder_deploy_commit = "95860dbcba2031b930020dbd856e76cd37ba34c8";

struct HandoverInputs {
  std::string cluster;          // release, namespace and config name ("bids-ovh")
  std::string binder_host;      // public BinderHub host ("bids.mybinder.org")
  std::string config_text;      // config/<cluster>.yaml exactly as exported
  std::string secrets_text;     // secrets/config/<cluster>.yaml exactly as exported
  std::string kubeconfig_text;  // the exported kubeconfig (cluster/context/user = cluster)
  // What the member turned off or changed that central must turn back on (one line each,
  // "key.path: why"); stated in the README.
  std::vector<std::string> member_overrides;
  // What the member runs without until central deploys it ("key.path: consequence").
  std::vector<std::string> central_only;
};

struct BundleFile {
  std::string path;  // relative to the bundle folder
  std::string text;
  bool secret = false;
};

// The patch (sections in path order: .github/workflows/cd.yml, prune-harbor.yaml,
// test-helm-template.yaml, config/<cluster>.yaml, config/prod.yaml, deploy.py).
std::string mybinder_deploy_patch(const HandoverInputs& in);
std::string handover_readme(const HandoverInputs& in);
// (path, git blob id at k_mybinder_deploy_commit) of every upstream file the patch changes.
std::vector<std::pair<std::string, std::string>> patched_upstream_files();
// Every file of the bundle (patch, README, the two secret files).
std::vector<BundleFile> handover_bundle(const HandoverInputs& in);

}  // namespace binder::firstboot::render
