// The typed profile model: what `binder-image build` is asked to make. A Profile is produced by
// config::load_profile() (load.hpp) from a YAML file, its `extends:` chain and `--set` overrides,
// with every default filled in, every path resolved and every cross-field rule checked; a Profile
// you hold is valid. Every value carries the SourceLoc it came from (Located<T>), so later errors
// (a missing file, a checksum mismatch) can point at the YAML line. A value that came from a
// built-in default has loc.path == "<default>" and line 0; one from `--set key=v` has
// loc.path == "--set key" and line 0; an optional value nobody set is empty with an empty loc.
// Plain data, no behaviour; thread-safe to share read-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace binder::config {

using common::SourceLoc;

// A value and where it was set (file:line:col, "<default>", or "--set key").
template <typename T>
struct Located {
  T value{};
  SourceLoc loc;
  // True when the value came from a YAML file or --set rather than a built-in default.
  bool is_set() const { return loc.line > 0 || loc.path.starts_with("--set"); }
};

// A list whose items each know their line; the list itself knows where it was set (lists are
// replaced whole by a child profile, never appended).
using StringList = Located<std::vector<Located<std::string>>>;

// Which layer a setting feeds (its digest includes canonical_settings(profile, kind)).
//   base    = base image + resize
//   system  = k3s files, sysctls, cloud-init, ntp, kubelet defaults, SOURCE_DATE_EPOCH
//   charts  = the packaged mybinder and cert-manager charts (charts.*)
//   final   = overlays, firstboot, member, build.json (name, description), hygiene
//   export_ = outputs
//   none    = affects no layer (extends, x- keys, required_packages: a check only)
enum class LayerKind { base, system, final, export_, none, charts };
std::string_view to_string(LayerKind k);

// Where bytes come from: exactly one of url / file, plus a checksum. `url` and `file` are
// already ${VAR}-expanded; `file` is absolute (resolved against the directory of the YAML file
// that set it).
struct Checksum {
  Located<std::string> sha256;  // 64 lowercase hex digits, or empty
  // A SHA256SUMS-style file ("<hex>  <name>" lines): an http(s) URL or an absolute path, or
  // empty. The entry to use is the one whose name equals the basename of the url/file.
  Located<std::string> sha256sums;
  // base only: a detached OpenPGP signature of sha256sums (URL or absolute path) and the keyring
  // (URL, absolute path, or "builtin:ubuntu-cloudimage") gpgv checks it with before the list is
  // trusted; `signing_key` pins the signer's fingerprint (catalog entries only).
  Located<std::string> signature;
  Located<std::string> keyring;
  std::string signing_key;
  bool empty() const { return sha256.value.empty() && sha256sums.value.empty(); }
  bool sums_is_url() const { return is_url(sha256sums.value); }
  static bool is_url(std::string_view s) { return s.starts_with("https://") || s.starts_with("http://"); }
};

struct Artifact {
  Located<std::string> url;             // http(s) URL, or empty
  Located<std::filesystem::path> file;  // absolute path, or empty
  Checksum checksum;
  bool is_url() const { return !url.value.empty(); }
  // The file name the artifact is known by (last URL/path component): the SHA256SUMS key.
  std::string basename() const;
};

// base: exactly one of image | url | file | rootfs.
enum class BaseKind { image, url, file, rootfs };
std::string_view to_string(BaseKind k);

struct BaseSource {
  Located<BaseKind> kind;
  // kind == image: the catalog name ("ubuntu-24.04"); `artifact` is filled from the catalog
  // (url + sha256sums URL), so the pipeline only reads `artifact`.
  Located<std::string> image;
  // kind == url/file: the cloud image (qcow2 or raw) with a required checksum.
  // kind == rootfs: artifact.file is the tarball; the checksum is optional.
  Artifact artifact;
};

// One entry of the built-in base image catalog (settings.cpp holds the table).
struct CatalogEntry {
  std::string_view name;         // "ubuntu-24.04"
  std::string_view url;          // the qcow2 cloud image
  std::string_view sha256sums;   // its SHA256SUMS URL
  std::string_view signature;    // SHA256SUMS.gpg URL
  std::string_view keyring;      // "builtin:ubuntu-cloudimage"
  std::string_view signing_key;  // pinned primary fingerprint
  std::string_view description;
};
const std::vector<CatalogEntry>& base_catalog();

struct Disk {
  Located<std::uint64_t> size;  // bytes; parsed from "20G" (K/M/G/T = 1024^n, or plain bytes)
};

// k3s.upgrade: the system-upgrade-controller release and mybinder's upgrade Plan, baked into the
// server manifests dir (settings_k3s_upgrade.cpp).
struct K3sUpgrade {
  Located<bool> enable;                     // false: no controller, CRD or Plan in the image
  Located<std::string> channel;             // channel URL, or a pinned k3s version "v1.33.6+k3s1"
  Located<std::string> controller_version;  // "v0.20.1": the default URLs follow it
  Located<std::string> controller_url;      // https://, http:// or file://
  Located<std::string> controller_sha256;   // required (the v0.20.1 default is pinned)
  Located<std::string> crd_url;
  Located<std::string> crd_sha256;
  bool pinned_version() const { return channel.value.starts_with("v"); }
};

struct K3s {
  Located<std::string> version;  // "v1.33.5+k3s1"
  // Defaults: the GitHub release files of `version` verified with its sha256sum-amd64.txt.
  Artifact binary;
  std::optional<Artifact> airgap_images;  // nullopt: `airgap_images: null` (none baked)
  // `.txt` image lists (one image reference a line) placed beside the tarball in
  // /var/lib/rancher/k3s/agent/images/: k3s pulls those images when it starts. Absolute paths,
  // each with the location of its list item.
  Located<std::vector<Located<std::filesystem::path>>> image_lists;
  Located<bool> install;  // false: no k3s files in the image at all
  K3sUpgrade upgrade;
};

struct Kubelet {
  Located<double> max_pods_per_gib;  // maxPods = floor(this x RAM GiB), written at firstboot
  Located<int> image_gc_high;        // percent
  Located<int> image_gc_low;         // percent, < image_gc_high
};

struct CloudInit {
  StringList datasources;  // cloud-init datasource_list, e.g. [OpenStack, ConfigDrive, NoCloud]
};

struct Overlay {
  Located<std::string> name;  // as written: "common", or a path
  std::filesystem::path dir;  // absolute: <yaml dir>/../overlays/<name> for a plain name,
                              // else the path resolved against the yaml dir
};

struct Firstboot {
  // Absolute path of the binder-firstboot binary to install; empty = the one built next to
  // binder-image (the pipeline resolves it).
  Located<std::filesystem::path> binary;
  Located<bool> enable;  // enable binder-firstboot.service in the image
};

struct Member {
  Located<std::filesystem::path> file;  // absolute; empty = no baked member metadata
  Located<bool> allow_baked_secrets;    // the loader refuses a member file holding secrets
                                        // unless this is true
};

enum class Format { qcow2, raw, vmdk, ova, vhd, gcp_tar };
enum class Compression { none, zstd, zlib, xz, gzip };
std::string_view to_string(Format f);       // "qcow2", ..., "gcp-tar"
std::string_view to_string(Compression c);  // "none", "zstd", ...

struct Output {
  Located<Format> format;
  Located<Compression> compression;  // already checked against the format's provider rules
  Located<std::string> name;         // output file stem; empty = the profile name
  SourceLoc loc;                     // the list item
};

// charts: what the charts layer bakes (builder/charts/bake.hpp, the charts contract).
struct ChartsMybinder {
  Located<bool> enable;          // false: no charts layer content at all
  Located<std::string> url;      // source archive: https://, http:// or file://
  Located<std::string> commit;   // 40 hex digits
  Located<std::string> sha256;   // of the archive; empty: commit id checked, sha256 recorded
  Located<std::string> version;  // the chartpress chart version
  std::map<std::string, Located<std::string>> images;  // values path -> "repo:tag"
};

struct ChartsCertManager {
  Located<std::string> version;      // empty: the archive's cert-manager.env
  Located<std::string> crds_url;     // empty: the release's cert-manager.crds.yaml
  Located<std::string> crds_sha256;  // empty: computed and recorded
};

struct Charts {
  ChartsMybinder mybinder;
  ChartsCertManager cert_manager;
  // chart repository URL / oci:// prefix -> replacement (longest prefix wins)
  std::map<std::string, Located<std::string>> repository_mirrors;
};

struct Reproducible {
  Located<std::optional<std::int64_t>> source_date_epoch;  // nullopt: $SOURCE_DATE_EPOCH (common::BuildDate)
};

struct Profile {
  std::filesystem::path path;                // the top profile file, as given
  std::vector<std::filesystem::path> files;  // every file read (extends chain), parents first

  Located<std::string> name;
  Located<std::string> description;
  BaseSource base;
  Disk disk;
  K3s k3s;
  std::map<std::string, Located<std::string>> sysctls;  // key -> scalar text ("8192")
  Kubelet kubelet;
  CloudInit cloud_init;
  StringList ntp;
  std::vector<Overlay> overlays;  // in order; later overlays win on conflicting files
  StringList required_packages;   // must be in the base's dpkg status (pipeline checks)
  Charts charts;
  Firstboot firstboot;
  Member member;
  std::vector<Output> outputs;
  Reproducible reproducible;
};

}  // namespace binder::config
