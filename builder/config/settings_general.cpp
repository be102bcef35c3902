// Settings: name, description, extends, base (one-of image/url/file/rootfs) and disk. Also the
// base image catalog, so the pipeline only ever reads URLs from the Profile.
#include <algorithm>
#include <regex>

#include "config/settings_internal.hpp"
#include "config/values.hpp"

namespace binder::config {

const std::vector<CatalogEntry>& base_catalog() {
  static const std::vector<CatalogEntry> k_catalog = {
      {"ubuntu-24.04",
       "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img",
       "https://cloud-images.ubuntu.com/noble/current/SHA256SUMS",
       "Ubuntu 24.04 LTS (noble) server cloud image, amd64"},
      {"ubuntu-22.04",
       "https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64.img",
       "https://cloud-images.ubuntu.com/jammy/current/SHA256SUMS",
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
  } else if (checksum_required && node.find("sha256") == nullptr &&
             node.find("sha256sums") == nullptr) {
    c.diags.error(node.loc, fmt::format("'{}' needs 'sha256' or 'sha256sums' to verify '{}'",
                                        c.key, has_url ? a.url.value : a.file.value.string()));
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
                              "got '{}' and '{}'", kinds[0]->key, kinds[1]->key),
                  std::nullopt, static_cast<int>(kinds[1]->key.size()));
    return;
  }
  const std::string& kind = kinds[0]->key;
  b.kind = {static_cast<BaseKind>(std::find(k_kinds.begin(), k_kinds.end(), kind) -
                                  k_kinds.begin()),
            kinds[0]->key_loc};
  bool has_sum = n->find("sha256") != nullptr || n->find("sha256sums") != nullptr;
  if (kind == "rootfs") {
    for (const char* k : {"sha256", "sha256sums"}) {
      if (const Node* s = n->find(k)) {
        c.diags.error(s->loc, fmt::format("'base.{}' applies to 'url', 'file' and 'image'; "
                                          "use 'base.rootfs.sha256' for a rootfs tarball", k));
      }
    }
  } else if (kind == "image") {
    for (const CatalogEntry& e : base_catalog()) {
      if (e.name == b.image.value) {
        b.artifact.url = {std::string(e.url), b.image.loc};
        if (!has_sum) {
          b.artifact.checksum.sha256sums = {std::string(e.sha256sums), b.image.loc};
        }
      }
    }
  } else if (!has_sum) {
    c.diags.error(n->loc, fmt::format("'base.{}' needs 'sha256' or 'sha256sums'", kind));
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
  out.insert(out.end(), {
    {"name", ValueKind::string, "",
     "Name of the image: the default stem of output files and the `profile` in "
     "`/etc/binder-image/build.json`. Letters, digits, `.`, `_` and `-`.",
     LayerKind::final, {}, true, false, parse_name,
     [](const Profile& p, RenderCtx& r) { r(p.name.value, p.name.loc); }},
    {"description", ValueKind::string, "", "One line saying what the profile is for.",
     LayerKind::final, {}, false, false,
     [](const Node* n, ParseCtx& c) { c.get(*n, c.p.description); },
     [](const Profile& p, RenderCtx& r) { render_if(r, p.description); }},
    {"extends", ValueKind::extends, "",
     "Profile file(s) this one builds on, relative to this file. Parents load first (in list "
     "order); this file's keys override theirs key by key, while lists and the one-of mappings "
     "`base`, `k3s.binary` and `k3s.airgap_images` are replaced whole. Cycles are errors.",
     LayerKind::none, {}, false, false, [](const Node*, ParseCtx&) {}, nullptr},
    {"base", ValueKind::section, "",
     "Where the image starts: exactly one of `image`, `url`, `file` or `rootfs`.",
     LayerKind::base, {}, true, true, finish_base, nullptr},
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
    {"base.url", ValueKind::url, "",
     "A cloud image (qcow2 or raw) to download over HTTP(S); needs `sha256` or `sha256sums`.",
     LayerKind::base, {}, false, false,
     [](const Node* n, ParseCtx& c) { c.get_url(*n, c.p.base.artifact.url); },
     [](const Profile& p, RenderCtx& r) { render_if(r, p.base.artifact.url); }},
    {"base.file", ValueKind::path, "",
     "A local cloud image (qcow2 or raw); needs `sha256` or `sha256sums`.", LayerKind::base,
     {}, false, false, [](const Node* n, ParseCtx& c) { c.get_path(*n, c.p.base.artifact.file); },
     [](const Profile& p, RenderCtx& r) {
       if (p.base.kind.value == BaseKind::file) {
         render_if(r, p.base.artifact.file);
       }
     }},
    {"base.sha256", ValueKind::string, "", "SHA-256 of the `url`/`file` image (64 hex digits).",
     LayerKind::base, {}, false, false,
     [](const Node* n, ParseCtx& c) { c.get_sha256(*n, c.p.base.artifact.checksum.sha256); },
     [](const Profile& p, RenderCtx& r) {
       if (p.base.kind.value != BaseKind::rootfs) {
         render_if(r, p.base.artifact.checksum.sha256);
       }
     }},
    {"base.sha256sums", ValueKind::url_or_path, "",
     "A SHA256SUMS file (URL or path) listing the image by its file name.", LayerKind::base, {},
     false, false,
     [](const Node* n, ParseCtx& c) {
       c.get_url_or_path(*n, c.p.base.artifact.checksum.sha256sums);
     },
     [](const Profile& p, RenderCtx& r) { render_if(r, p.base.artifact.checksum.sha256sums); }},
    {"base.rootfs", ValueKind::section, "",
     "A root file system tarball (e.g. from mmdebstrap) that the builder assembles into a "
     "bootable GPT disk (ext4 root, BIOS and UEFI GRUB).",
     LayerKind::base, {}, false, false, [](const Node*, ParseCtx&) {}, nullptr},
    {"base.rootfs.tarball", ValueKind::path, "", "The tarball (tar, tar.gz, tar.zst, ...).",
     LayerKind::base, {}, true, false,
     [](const Node* n, ParseCtx& c) { c.get_path(*n, c.p.base.artifact.file); },
     [](const Profile& p, RenderCtx& r) {
       if (p.base.kind.value == BaseKind::rootfs) {
         render_if(r, p.base.artifact.file);
       }
     }},
    {"base.rootfs.sha256", ValueKind::string, "", "Optional SHA-256 of the tarball.",
     LayerKind::base, {}, false, false,
     [](const Node* n, ParseCtx& c) { c.get_sha256(*n, c.p.base.artifact.checksum.sha256); },
     [](const Profile& p, RenderCtx& r) {
       if (p.base.kind.value == BaseKind::rootfs) {
         render_if(r, p.base.artifact.checksum.sha256);
       }
     }},
    {"disk", ValueKind::section, "", "The image's disk.", LayerKind::base, {}, false, false,
     [](const Node*, ParseCtx&) {}, nullptr},
    {"disk.size", ValueKind::size, "20G",
     "Virtual disk size: bytes, or a whole number with a K, M, G or T suffix (powers of 1024). "
     "The root partition and file system grow to fill it. Some formats need a whole MiB (vhd) "
     "or GiB (gcp-tar).",
     LayerKind::base, {}, false, false,
     [](const Node* n, ParseCtx& c) { c.get_size(*n, c.p.disk.size); },
     [](const Profile& p, RenderCtx& r) { r(format_size(p.disk.size.value), p.disk.size.loc); }},
  });
}

}  // namespace detail
}  // namespace binder::config
