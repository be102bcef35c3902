// The handover bundle. See handover_bundle.hpp.
#include "firstboot/render/handover_bundle.hpp"

#include <fmt/format.h>

#include "firstboot/render/unified_diff.hpp"

namespace binder::firstboot::render {

namespace {

// Where a new entry goes in an upstream file at k_mybinder_deploy_commit: `before` ends at the
// last existing entry of the list, `after` follows it; `line` is the first line of `before`.
// Copied from the files at that commit (git blob ids given), 3 lines each side as git writes.
struct Anchor {
  const char* path;
  const char* blob;
  int line;
  std::vector<std::string> before;
  std::vector<std::string> after;
};

const Anchor& cd_anchor() {  // prod-deploy matrix, after bids-ovh
  static const Anchor a{
      ".github/workflows/cd.yml",
      "8a1c22d7edc3a31b17d3314cedbd9fbae64355a9",
      208,
      {"            chartpress_args: \"\"", "            helm_version: \"\"",
       "            experimental: false"},
      {"", "    # These permissions are needed to interact with GitHub's OIDC Token endpoint.",
       "    permissions:"}};
  return a;
}
const Anchor& prune_anchor() {  // prune-harbor matrix, after hetzner-gesis
  static const Anchor a{
      ".github/workflows/prune-harbor.yaml",
      "44e61efea23cc8865848a32bc8c4b622c5e1fef8",
      22,
      {"          - name: bids-ovh", "          - name: hetzner-2i2c", "          - name: hetzner-gesis"},
      {"", "    steps:", "      - uses: actions/checkout@v7"}};
  return a;
}
const Anchor& helm_template_anchor() {  // helm-template matrix, after bids-ovh
  static const Anchor a{".github/workflows/test-helm-template.yaml",
                        "8e4f17ab8a0bb05f0286483ec9e8388fe384aa63",
                        45,
                        {"            k3s-channel: \"v1.34\"", "          - release: bids-ovh",
                         "            k3s-channel: \"v1.34\""},
                        {"", "    steps:", "      - uses: actions/checkout@v7"}};
  return a;
}
const Anchor& prod_anchor() {  // federationRedirect.hosts, after bids-ovh
  static const Anchor a{"config/prod.yaml",
                        "90f2dd10ec7c64878069ce56fae76ae9c587ec26",
                        209,
                        {"      weight: 50", "      health: https://bids.mybinder.org/health",
                         "      versions: https://bids.mybinder.org/versions"},
                        {"", "podLogs:", "  enabled: false"}};
  return a;
}
const Anchor& deploy_anchor() {  // KUBECONFIG_CLUSTERS, after bids-ovh
  static const Anchor a{"deploy.py",
                        "796ba4541ff92738ee2b78278e4d4cfcf84bde0a",
                        37,
                        {"    \"hetzner-gesis\",", "    \"staging\",", "    \"bids-ovh\","},
                        {"}", "", "# Mapping of config name to cluster name for AWS EKS deployments"}};
  return a;
}

std::string insert_at(const Anchor& a, std::vector<std::string> added) {
  return insertion_diff(a.path, {InsertionHunk{a.line, a.before, std::move(added), a.after}});
}

std::string config_path(const HandoverInputs& in) { return "config/" + in.cluster + ".yaml"; }

const std::vector<const Anchor*>& anchors() {
  static const std::vector<const Anchor*> all = {&cd_anchor(), &prune_anchor(), &helm_template_anchor(),
                                                 &prod_anchor(), &deploy_anchor()};
  return all;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> patched_upstream_files() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto* a : anchors())
    out.emplace_back(a->path, a->blob);
  return out;
}

std::string mybinder_deploy_patch(const HandoverInputs& in) {
  const std::string& c = in.cluster;
  const std::string url = "https://" + in.binder_host;
  std::string out;
  // Step 14.2: the prod-deploy matrix runs `deploy.py <cluster>` on every merge.
  out +=
      insert_at(cd_anchor(), {"", "          - federation_member: " + c, "            chartpress_args: \"\"",
                              "            helm_version: \"\"", "            experimental: false"});
  // Step 14.4: weekly prune of empty repositories in the member's Harbor.
  out += insert_at(prune_anchor(), {"          - name: " + c});
  // Step 14.3: render the chart for the member's config on a k3s of the same minor version.
  out +=
      insert_at(helm_template_anchor(), {"          - release: " + c, "            k3s-channel: \"v1.34\""});
  out += new_file_diff(config_path(in), in.config_text);
  // Step 14.1 / §7.1: in the redirector, but at weight 0 (no traffic) until operators ramp it up.
  out += insert_at(prod_anchor(),
                   {"    " + c + ":", "      prime: false", "      url: " + url, "      weight: 0",
                    "      health: " + url + "/health", "      versions: " + url + "/versions"});
  // Step 10: deploy.py reads secrets/<cluster>-kubeconfig.yaml for clusters in this set.
  out += insert_at(deploy_anchor(), {"    \"" + c + "\","});
  return out;
}

std::string handover_readme(const HandoverInputs& in) {
  const std::string& c = in.cluster;
  std::string overrides;
  for (const auto& o : in.member_overrides)
    overrides += "- `" + o + "`\n";
  if (overrides.empty())
    overrides = "- (none recorded by this binder-firstboot version)\n";
  std::string central;
  for (const auto& v : in.central_only)
    central += "- `" + v + "`\n";
  if (central.empty())
    central = "- (none)\n";
  std::string blobs;
  for (const auto& [path, blob] : patched_upstream_files())
    blobs += fmt::format("   - `{}` {}\n", path, blob);
  return fmt::format(
      "# Handover of member `{c}` to mybinder.org central CD\n\n"
      "`binder-firstboot handover` has run on the member: its k3s HelmCharts were marked\n"
      "`helmcharts.helm.cattle.io/unmanaged` and deleted, so the VM no longer manages the Helm\n"
      "releases (they keep running). From now on `deploy.py {c}` owns them.\n\n"
      "## Files\n\n"
      "| file | what |\n| --- | --- |\n"
      "| `mybinder.org-deploy.patch` | against `{repo}` at `{commit}`: `config/{c}.yaml`, `deploy.py` "
      "KUBECONFIG_CLUSTERS, CD matrix rows (cd.yml, test-helm-template.yaml, prune-harbor.yaml), "
      "redirector host in `config/prod.yaml` at weight 0. No secrets. |\n"
      "| `secrets/{c}-kubeconfig.yaml` | cluster admin kubeconfig (SECRET; client certificate valid 365 days) |\n"
      "| `secrets/config/{c}.yaml` | the member's secret values (SECRET) |\n\n"
      "## What to do\n\n"
      "1. In a clone of `{repo}`, unlock secrets: `git-crypt unlock`.\n"
      "2. Apply the patch where it was made, then let git bring it onto main:\n"
      "   `git checkout -b add-{c} {commit}`, `git apply /path/to/mybinder.org-deploy.patch`,\n"
      "   `git commit -am 'add federation member {c}'`, `git rebase main` (in the lists keep both\n"
      "   your entry and any added since). Made against these blobs at that commit:\n{blobs}"
      "3. Copy `secrets/{c}-kubeconfig.yaml` and `secrets/config/{c}.yaml` to the same paths in\n"
      "   the clone. `secrets/**` is git-crypt encrypted by `.gitattributes`: check with\n"
      "   `git-crypt status secrets/config/{c}.yaml` that both show as encrypted BEFORE committing.\n"
      "   Never paste them into a pull request, issue or chat.\n"
      "4. Open a pull request. On merge, CD runs `deploy.py {c}`; it should show no diff against\n"
      "   what the member deployed, apart from the member-side overrides below.\n\n"
      "## What to review\n\n"
      "- `config/{c}.yaml`: hosts, Harbor S3 bucket/endpoint, replicas, launch quota, dind\n"
      "  resources (sized from the VM's RAM/CPUs).\n"
      "- `config/prod.yaml`: the host `{c}` is added with `weight: 0` (no traffic). Raise it\n"
      "  step by step (10, 30, 50) once `https://{host}/versions` matches the prime's and\n"
      "  `https://{host}/health` is ok.\n"
      "- test-helm-template.yaml: `k3s-channel` is `v1.34` like the other k3s members; set it to\n"
      "  the member's k3s minor version if it differs.\n"
      "- The kubeconfig points at the member's public IP on port 6443; renew it yearly\n"
      "  (`scripts/fetch_k3s_kubeconfig.py {c}`).\n"
      "- Not in the patch (central only): user guide entry, Grafana datasource\n"
      "  `https://prometheus.{host}`, events archiver key, Harbor replication peers.\n\n"
      "## Member-side overrides central must turn back on\n\n"
      "The VM deployed without what only central has (git-crypt files, `secrets/config/common/`).\n"
      "The first central deploy turns these back on (HelmChart `spec.set` on the VM):\n\n{overrides}\n"
      "## What the member ran without until now\n\n"
      "Values only central has (`secrets/config/common/`); central's deploy adds them:\n\n{central}",
      fmt::arg("c", c), fmt::arg("repo", k_mybinder_deploy_repo),
      fmt::arg("commit", k_mybinder_deploy_commit), fmt::arg("host", in.binder_host),
      fmt::arg("overrides", overrides), fmt::arg("central", central), fmt::arg("blobs", blobs));
}

std::vector<BundleFile> handover_bundle(const HandoverInputs& in) {
  return {BundleFile{"mybinder.org-deploy.patch", mybinder_deploy_patch(in), false},
          BundleFile{"README.md", handover_readme(in), false},
          BundleFile{"secrets/" + in.cluster + "-kubeconfig.yaml", in.kubeconfig_text, true},
          BundleFile{"secrets/config/" + in.cluster + ".yaml", in.secrets_text, true}};
}

}  // namespace binder::firstboot::render
