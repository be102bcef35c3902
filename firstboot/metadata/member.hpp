// The member metadata model (DESIGN.md §5): the typed `binder_member` document every firstboot
// step reads. Loaded and validated by metadata/load.hpp; the normalized copy on the VM is
// /var/lib/binder-firstboot/member.json (0600, because it holds secrets). Plain data, no I/O.
//
// Secret fields (dns.api_token, registry.s3.access_key/secret_key, registry.password, node.token,
// binderhub.github_token) must never be
// printed: the loader registers them with log::add_secret, and to_json(Redact::yes) replaces them
// by "<redacted>".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace binder::firstboot {

enum class Mode { federation, standalone };
enum class NodeRole { server, agent };
enum class Redact { no, yes };
// node.ntp_mode: the member's NTP servers add to the image's (the profile's `ntp`) or replace them.
enum class NtpMode { add, replace };
// registry.kind: where BinderHub pushes the images it builds.
//   harbor-s3     the member's own Harbor, images in an S3 bucket (registry.s3); what federation
//                 members use (mybinder's Harbor keeps images in S3; external is refused there)
//   harbor-local  the member's own Harbor, images on a filesystem volume: on the extra disk when
//                 there is one (k3s local-path volumes under /mnt/disk/local-path), else the root
//                 disk (/var/lib/rancher/k3s/storage). The standalone default.
//   external      no Harbor: BinderHub pushes to registry.url with registry.username/password
//                 (Docker Hub, GHCR, Quay, a private registry) and user pods pull with them.
enum class RegistryKind { harbor_s3, harbor_local, external };

struct DnsConfig {
  std::string provider = "cloudflare";  // the only provider so far
  std::string zone;                     // e.g. "mybinder.org"; default: the member's domain
  std::string api_token;                // secret
  // The zone's id (32 hex digits) when given: the zone lookup (GET /zones, which needs
  // Zone:Zone:Read) is skipped, so a token with Zone:DNS:Edit alone works. Empty: looked up.
  std::string zone_id;
};

struct TlsConfig {
  std::string email;                        // ACME account email
  std::string issuer = "letsencrypt-prod";  // ClusterIssuer name
};

struct S3Config {
  std::string endpoint;  // "https://s3.example.org"
  std::string region;
  std::string bucket;
  std::string access_key;  // secret
  std::string secret_key;  // secret
};

struct RegistryConfig {
  // Absent in the metadata: harbor-s3 when registry.s3 is given, else harbor-local.
  RegistryKind kind = RegistryKind::harbor_local;
  // Harbor kinds:
  std::string host;            // default "registry.<name>.<domain>"
  std::optional<S3Config> s3;  // harbor-s3 only (required there)
  std::string project = "mybinder-builds";
  std::int64_t quota_gb = 10000;  // Harbor project quota; -1 = unlimited
  // external only:
  std::string url;  // "https://ghcr.io" (binderhub registry.url)
  std::string username;
  std::string password;      // secret
  std::string image_prefix;  // "ghcr.io/org/binder-"; default <url host>/<username>/binder-

  bool harbor() const { return kind != RegistryKind::external; }
  // Harbor keeping images on its filesystem volume (harbor-local; validation makes s3 present
  // exactly for harbor-s3, so the s3 field decides for members built in code too).
  bool local_storage() const { return harbor() && !s3; }
};

struct BinderHubConfig {
  std::string chart_version;                         // empty: the pinned default
  nlohmann::json values = nlohmann::json::object();  // merged last into binderhub values
  // Secret, optional: a GitHub API token a donor supplies (federation mode: in place of central's
  // secrets/config/common one until handover; without it GitHub allows 60 requests per hour).
  std::string github_token;
};

struct ExtraDiskSpec {
  enum class Kind { automatic, none, device };
  Kind kind = Kind::automatic;  // YAML: auto | none | /dev/xyz
  std::string device;           // set for Kind::device
};

struct NodeConfig {
  NodeRole role = NodeRole::server;
  std::string server_url;  // agent only: "https://10.0.0.1:6443"
  std::string token;       // agent only; secret
  ExtraDiskSpec extra_disk;
  // NTP servers in /etc/systemd/timesyncd.conf.d/70-binder-member.conf. Empty: only the image's
  // (60-binder.conf from the profile's `ntp`, else the distribution's).
  std::vector<std::string> ntp;
  NtpMode ntp_mode = NtpMode::add;  // replace: the image's servers are dropped
  // kubelet maxPods = floor(factor x RAM GiB); unset: the image profile's kubelet.max_pods_per_gib.
  std::optional<double> max_pods_per_gib;
  // registries.yaml mirrors: registry name ("docker.io", "*") -> endpoint URLs.
  // YAML: node.registries.mirrors.<name>.endpoint: [..]
  std::map<std::string, std::vector<std::string>> registry_mirrors;
};

struct OperatorsConfig {
  std::vector<std::string> ssh_authorized_keys;
  std::string user = "root";  // whose ~/.ssh/authorized_keys gets the keys
};

struct K3sOptions {
  bool auto_upgrade = false;  // place the system-upgrade-controller plan in the manifests dir
};

// Optional API endpoint overrides (lead's decision in requests.md): private CAs, API proxies, the
// smoke boot's fakes. Empty = the default (Cloudflare's public API, https://<registry host>).
struct EndpointsConfig {
  std::string cloudflare;  // "https://api.cloudflare.com/client/v4"
  std::string harbor;      // "https://registry.example.org" (the API is <harbor>/api/v2.0)
  std::string ca_file;     // extra trusted CA (PEM) for those clients; TLS stays verified
};

// readiness: how the member proves it is reachable (step `readiness`) and follows its way into
// the federation's rotation (step `in-rotation`, after handover). Minutes bound the waits: DNS
// propagation and the ACME certificate take minutes.
struct ReadinessConfig {
  int timeout_minutes = 30;  // the whole `readiness` step; then exit 75 (retried)
  // The federation prime's /versions (mybinder config/prod.yaml, the host with prime: true);
  // federation mode only: the redirector drops members whose /versions differ.
  std::string prime_versions_url = "https://2i2c.mybinder.org/versions";
  // Optional test launch through the member's BinderHub, a /build spec such as
  // "gh/binder-examples/requirements/HEAD". Empty: no launch.
  std::string test_launch;
  std::string active_hosts_url = "https://mybinder.org/active_hosts";  // the redirector's list
  int rotation_timeout_minutes = 60;  // `in-rotation`: then a warning, not a failure
};

struct Member {
  std::string name;  // DNS label (RFC 1123 label) of the member's hostnames
  // Optional: Helm release, namespace, Harbor robot and kubeconfig names (real members: release
  // "bids-ovh", hosts under "bids."). Empty = `name`; use cluster() to read it.
  std::string cluster_name;
  std::string domain;  // "mybinder.org"
  Mode mode = Mode::federation;
  std::optional<std::string> public_ip;  // nullopt = "auto" (discover)
  // The explicit public_ip may be private/CGNAT/link-local (a lab or the smoke boot's QEMU
  // network); only valid with an explicit public_ip. Default: such addresses are refused.
  bool public_ip_private_ok = false;
  std::optional<DnsConfig> dns;  // required in federation mode
  TlsConfig tls;
  // Required in federation mode (kind harbor-s3); standalone default: harbor-local (filled in by
  // the loader, so a loaded standalone member always has one).
  std::optional<RegistryConfig> registry;
  BinderHubConfig binderhub;
  NodeConfig node;
  OperatorsConfig operators;
  K3sOptions k3s;
  EndpointsConfig endpoints;
  // Optional: an https URL the agent POSTs its status document to at each step change (phone
  // home; firstboot/status.schema.json). Empty: off. Never logged beyond its host.
  std::string status_url;
  ReadinessConfig readiness;

  // The cluster name: cluster_name, else name.
  const std::string& cluster() const { return cluster_name.empty() ? name : cluster_name; }
  // "<name>.<domain>"
  std::string fqdn() const { return name + "." + domain; }
  // The registry host, defaulted to "registry.<name>.<domain>"; external: the host of registry.url.
  std::string registry_host() const;

  // The secrets view: (key path, value) for every non-empty secret field, e.g.
  // {"dns.api_token", "..."}. Callers register them with log::add_secret.
  std::vector<std::pair<std::string, std::string>> secrets() const;

  // Normalized JSON (every field present, defaults filled in). With Redact::yes secret values
  // become "<redacted>". from_json(to_json(m)) == m.
  nlohmann::json to_json(Redact redact = Redact::no) const;
};

const char* to_string(Mode m);
const char* to_string(NodeRole r);
const char* to_string(NtpMode m);
const char* to_string(RegistryKind k);

// True when the member runs its own Harbor (no registry section, or a harbor-* kind).
bool runs_harbor(const Member& m);
// The external registry's image prefix: registry.image_prefix, else "<url host>/<username>/binder-"
// (Docker Hub's hosts index.docker.io, registry-1.docker.io, registry.hub.docker.com: docker.io).
std::string external_image_prefix(const RegistryConfig& r);
// The host[:port] of an http(s) URL ("https://ghcr.io/v2/" -> "ghcr.io").
std::string url_host(const std::string& url);

}  // namespace binder::firstboot
