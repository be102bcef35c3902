// Settings: name, description, extends, base (one-of image/url/file/rootfs) and disk. Also the
// base image catalog, so the pipeline only ever reads URLs from the Profile.
#include <algorithm>
#include <regex>

#include "config/settings_internal.hpp"
#include "config/values.hpp"

namespace binder::config {

namespace {
// base/keyring.hpp's names (config does not depend on base): the keyring compiled into the
// builder and the fingerprint of the key that signs Ubuntu's cloud image SHA256SUMS.
constexpr std::string_view k_ubuntu_keyring = "builtin:ubuntu-cloudimage";
constexpr std::string_view k_ubuntu_fingerprint = "D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81";
}  // namespace

const std::vector<CatalogEntry>& base_catalog() {
  static const std::vector<CatalogEntry> k_catalog = {
      // A pinned release serial, not the moving noble/current/: the same profile gives the same
      // base. Its SHA256SUMS is trusted only with a good signature by the Ubuntu cloud image key
      // (base/keys/README.md).
      {"ubuntu-24.04",
       "https://cloud-images.ubuntu.com/releases/noble/release-20260926/"
       "ubuntu-24.04-server-cloudimg-amd64.img",
       "https://cloud-images.ubuntu.com/releases/noble/release-20260926/SHA256SUMS",
       "https://cloud-images.ubuntu.com/releases/noble/release-20260926/SHA256SUMS.gpg", k_ubuntu_keyring,
       k_ubuntu_fingerprint, "Ubuntu 24.04 LTS (noble) server cloud image, amd64, release 20260926"},
      {"ubuntu-22.04", "https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64.img",
       "https://cloud-images.ubuntu.com/jammy/current/SHA256SUMS",
       "https://cloud-images.ubuntu.com/jammy/current/SHA256SUMS.gpg", k_ubuntu_keyring, k_ubuntu_fingerprint,
       "Ubuntu 22.04 LTS (jammy) server cloud image, amd64"},
  };
  return k_catalog;
}

namespace detail {

void check_artifact(const Node& node, ParseCtx& c, const Artifact& a, bool checksum_required) {
  bool has_url = node.find("url") != nullptr;
  bool has_file = node.find("file") != nullptr;
  if (has_url && has_file) {
    const Node* f = node.find("file");
    c.diags.error(f->loc, fmt::format("'{}' takes one of 'url' and 'file', not both", c.key));
  } else if (!has_url && !has_file) {
    c.diags.error(node.loc, fmt::format("'{}' needs 'url' or 'file'", c.key));
  } else if (checksum_required && node.find("sha256") == nullptr && node.find("sha256sums") == nullptr) {
    c.diags.error(node.loc, fmt::format("'{}' needs 'sha256' or 'sha256sums' to verify '{}'", c.key,
                                        has_url ? a.url.value : a.file.value.string()));
  }
}

namespace {

void parse_name(const Node* n, ParseCtx& c) {
  if (!c.get(*n, c.p.name)) {
    return;
  }
  static const std::regex k_re("[A-Za-z0-9][A-Za-z0-9._-]*");
  if (!std::regex_match(n->text, k_re)) {
    c.error(*n, fmt::format("invalid name '{}': use letters, digits, '.', '_' and '-'", n->text));
  }
}

void finish_base(const Node* n, ParseCtx& c) {
  static const std::vector<std::string> k_kinds = {"image", "url", "file", "rootfs"};
  std::vector<const Entry*> kinds;
  for (const Entry& e : n->entries) {
    if (std::find(k_kinds.begin(), k_kinds.end(), e.key) != k_kinds.end()) {
      kinds.push_back(&e);
    }
  }
  BaseSource& b = c.p.base;
  if (kinds.empty()) {
    c.diags.error(n->loc, "'base' needs one of 'image', 'url', 'file' or 'rootfs'");
    return;
  }
  if (kinds.size() > 1) {
    c.diags.error(kinds[1]->key_loc,
                  fmt::format("'base' takes exactly one of 'image', 'url', 'file' or 'rootfs'; "
                              "got '{}' and '{}'",
                              kinds[0]->key, kinds[1]->key),
                  std::nullopt, static_cast<int>(kinds[1]->key.size()));
    return;
  }
  const std::string& kind = kinds[0]->key;
  b.kind = {static_cast<BaseKind>(std::find(k_kinds.begin(), k_kinds.end(), kind) - k_kinds.begin()),
            kinds[0]->key_loc};
  bool has_sum = n->find("sha256") != nullptr || n->find("sha256sums") != nullptr;
  if (kind == "rootfs") {
    for (const char* k : {"sha256", "sha256sums"}) {
      if (const Node* s = n->find(k)) {
        c.diags.error(s->loc, fmt::format("'base.{}' applies to 'url', 'file' and 'image'; "
                                          "use 'base.rootfs.sha256' for a rootfs tarball",
                                          k));
      }
    }
  } else if (kind == "image") {
    for (const CatalogEntry& e : base_catalog()) {
      if (e.name == b.image.value) {
        b.artifact.url = {std::string(e.url), b.image.loc};
        bool own_signature = n->find("signature") != nullptr || n->find("keyring") != nullptr;
        if (!has_sum) {
          b.artifact.checksum.sha256sums = {std::string(e.sha256sums), b.image.loc};
          if (!own_signature) {
            b.artifact.checksum.signature = {std::string(e.signature), b.image.loc};
            b.artifact.checksum.keyring = {std::string(e.keyring), b.image.loc};
            b.artifact.checksum.signing_key = std::string(e.signing_key);
          }
        }
      }
    }
  } else if (!has_sum) {
    c.diags.error(n->loc, fmt::format("'base.{}' needs 'sha256' or 'sha256sums'", kind));
  }
  // A signature covers a SHA256SUMS list; it needs a list and a keyring, and a keyring a signature.
  const Node* sig = n->find("signature");
  const Node* ring = n->find("keyring");
  if (kind == "rootfs" && (sig || ring)) {
    c.diags.error((sig ? sig : ring)->loc,
                  "'base.signature' and 'base.keyring' apply to cloud images ('image', 'url', 'file')");
  } else if (sig && !ring) {
    c.diags.error(sig->loc, "'base.signature' needs 'base.keyring' (the keys to check it with)");
  } else if (ring && !sig) {
    c.diags.error(ring->loc, "'base.keyring' needs 'base.signature' (the SHA256SUMS.gpg to check)");
  } else if (sig && b.artifact.checksum.sha256sums.value.empty()) {
    c.diags.error(sig->loc, "'base.signature' signs a checksum list: give 'base.sha256sums' too");
  }
}

template <typename T>
void render_if(RenderCtx& r, const Located<T>& v) {
  if (!text_of(v).empty()) {
    r(text_of(v), v.loc);
  }
}

}  // namespace

void add_general_settings(std::vector<SettingSpec>& out) {
  std::vector<std::string_view> catalog;
  for (const auto& e : base_catalog()) {
    catalog.push_back(e.name);
  }
  out.insert(
      out.end(),
      {
          {"name",
           ValueKind::string,
           "",
           "Name of the image: the default stem of output files and the `profile` in "
           "`/etc/binder-image/build.json`. Letters, digits, `.`, `_` and `-`.",
           LayerKind::final,
           {},
           true,
           false,
           parse_name,
           [](const Profile& p, RenderCtx& r) { r(p.name.value, p.name.loc); }},
          {"description",
           ValueKind::string,
           "",
           "One line saying what the profile is for.",
           LayerKind::final,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get(*n, c.p.description); },
           [](const Profile& p, RenderCtx& r) { render_if(r, p.description); }},
          {"extends",
           ValueKind::extends,
           "",
           "Profile file(s) this one builds on, relative to this file. Parents load first (in list "
           "order); this file's keys override theirs key by key, while lists and the one-of mappings "
           "`base`, `k3s.binary` and `k3s.airgap_images` are replaced whole. Cycles are errors.",
           LayerKind::none,
           {},
           false,
           false,
           [](const Node*, ParseCtx&) {},
           nullptr},
          {"base",
           ValueKind::section,
           "",
           "Where the image starts: exactly one of `image`, `url`, `file` or `rootfs`.",
           LayerKind::base,
           {},
           true,
           true,
           finish_base,
           nullptr},
          {"base.image", ValueKind::enumeration, "",
           "A catalog image; its URL and SHA256SUMS URL are built in (`sha256`/`sha256sums` here "
           "override the catalog's checksum file).",
           LayerKind::base, catalog, false, false,
           [](const Node* n, ParseCtx& c) {
             Located<std::size_t> i;
             if (c.get_choice(*n, i)) {
               c.p.base.image = {std::string(c.spec->choices[i.value]), i.loc};
             }
           },
           [](const Profile& p, RenderCtx& r) { render_if(r, p.base.image); }},
          {"base.url",
           ValueKind::url,
           "",
           "A cloud image (qcow2 or raw) to download over HTTP(S); needs `sha256` or `sha256sums`.",
           LayerKind::base,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_url(*n, c.p.base.artifact.url); },
           [](const Profile& p, RenderCtx& r) { render_if(r, p.base.artifact.url); }},
          {"base.file",
           ValueKind::path,
           "",
           "A local cloud image (qcow2 or raw); needs `sha256` or `sha256sums`.",
           LayerKind::base,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_path(*n, c.p.base.artifact.file); },
           [](const Profile& p, RenderCtx& r) {
             if (p.base.kind.value == BaseKind::file) {
               render_if(r, p.base.artifact.file);
             }
           }},
          {"base.sha256",
           ValueKind::string,
           "",
           "SHA-256 of the `url`/`file` image (64 hex digits).",
           LayerKind::base,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_sha256(*n, c.p.base.artifact.checksum.sha256); },
           [](const Profile& p, RenderCtx& r) {
             if (p.base.kind.value != BaseKind::rootfs) {
               render_if(r, p.base.artifact.checksum.sha256);
             }
           }},
          {"base.sha256sums",
           ValueKind::url_or_path,
           "",
           "A SHA256SUMS file (URL or path) listing the image by its file name.",
           LayerKind::base,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_url_or_path(*n, c.p.base.artifact.checksum.sha256sums); },
           [](const Profile& p, RenderCtx& r) { render_if(r, p.base.artifact.checksum.sha256sums); }},
          {"base.signature",
           ValueKind::url_or_path,
           "",
           "A detached OpenPGP signature of `sha256sums` (URL or path, e.g. `SHA256SUMS.gpg`). `gpgv` "
           "must accept it with `keyring` before any checksum in the list is trusted; a bad signature, "
           "an unknown signer or an altered list stops the build (exit 1) before anything is "
           "downloaded. Catalog images set it (with the Ubuntu cloud image key) unless `sha256`, "
           "`sha256sums`, `signature` or `keyring` is given here.",
           LayerKind::base,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_url_or_path(*n, c.p.base.artifact.checksum.signature); },
           [](const Profile& p, RenderCtx& r) { render_if(r, p.base.artifact.checksum.signature); }},
          {"base.keyring",
           ValueKind::url_or_path,
           "",
           "The OpenPGP public keys (URL or path; a binary keyring or an ASCII-armored export) that "
           "`signature` is checked with, or `builtin:ubuntu-cloudimage`: the Ubuntu cloud image "
           "keyring compiled into binder-image.",
           LayerKind::base,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) {
             if (n->text.starts_with("builtin:")) {
               c.get(*n, c.p.base.artifact.checksum.keyring);
             } else {
               c.get_url_or_path(*n, c.p.base.artifact.checksum.keyring);
             }
           },
           [](const Profile& p, RenderCtx& r) { render_if(r, p.base.artifact.checksum.keyring); }},
          {"base.rootfs",
           ValueKind::section,
           "",
           "A root file system tarball (e.g. from mmdebstrap) that the builder assembles into a "
           "bootable GPT disk (ext4 root, BIOS and UEFI GRUB).",
           LayerKind::base,
           {},
           false,
           false,
           [](const Node*, ParseCtx&) {},
           nullptr},
          {"base.rootfs.tarball",
           ValueKind::path,
           "",
           "The tarball (tar, tar.gz, tar.zst, ...).",
           LayerKind::base,
           {},
           true,
           false,
           [](const Node* n, ParseCtx& c) { c.get_path(*n, c.p.base.artifact.file); },
           [](const Profile& p, RenderCtx& r) {
             if (p.base.kind.value == BaseKind::rootfs) {
               render_if(r, p.base.artifact.file);
             }
           }},
          {"base.rootfs.sha256",
           ValueKind::string,
           "",
           "Optional SHA-256 of the tarball.",
           LayerKind::base,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_sha256(*n, c.p.base.artifact.checksum.sha256); },
           [](const Profile& p, RenderCtx& r) {
             if (p.base.kind.value == BaseKind::rootfs) {
               render_if(r, p.base.artifact.checksum.sha256);
             }
           }},
          {"disk",
           ValueKind::section,
           "",
           "The image's disk.",
           LayerKind::base,
           {},
           false,
           false,
           [](const Node*, ParseCtx&) {},
           nullptr},
          {"disk.size",
           ValueKind::size,
           "20G",
           "Virtual disk size: bytes, or a whole number with a K, M, G or T suffix (powers of 1024). "
           "The root partition and file system grow to fill it. Some formats need a whole MiB (vhd) "
           "or GiB (gcp-tar).",
           LayerKind::base,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_size(*n, c.p.disk.size); },
           [](const Profile& p, RenderCtx& r) { r(format_size(p.disk.size.value), p.disk.size.loc); }},
      });
}

}  // namespace detail
}  // namespace binder::config
