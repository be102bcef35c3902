// Settings: k3s (version, binary, airgap images). By default both files come from the k3s
// GitHub release of `k3s.version` and are verified with that release's sha256sum-amd64.txt.
#include <regex>
#include <set>

#include "config/settings_internal.hpp"
#include "config/values.hpp"

namespace binder::config::detail {
namespace {

constexpr std::string_view k_release = "https://github.com/k3s-io/k3s/releases/download/";

Artifact* binary(Profile& p, bool /*create*/) { return &p.k3s.binary; }
Artifact* airgap(Profile& p, bool create) {
  if (!p.k3s.airgap_images && create) {
    p.k3s.airgap_images.emplace();
  }
  return p.k3s.airgap_images ? &*p.k3s.airgap_images : nullptr;
}

using Get = Artifact* (*)(Profile&, bool);

// The release default for `file` ("k3s", "k3s-airgap-images-amd64.tar.zst").
Artifact release_artifact(const Profile& p, std::string_view file) {
  SourceLoc d{"<default>", 0, 0};
  Artifact a;
  a.url = {fmt::format("{}{}/{}", k_release, p.k3s.version.value, file), d};
  a.checksum.sha256sums = {fmt::format("{}{}/sha256sum-amd64.txt", k_release, p.k3s.version.value), d};
  return a;
}

template <Get G>
const Artifact* cget(const Profile& p) {
  return G(const_cast<Profile&>(p), false);
}

template <Get G>
void add_artifact_keys(std::vector<SettingSpec>& out, std::string_view prefix, std::string_view what) {
  // Key strings must outlive the table: keep them in a static store.
  static std::vector<std::string> store;
  store.reserve(16);
  auto key = [&](std::string_view leaf) {
    store.push_back(fmt::format("{}.{}", prefix, leaf));
    return std::string_view(store.back());
  };
  static std::vector<std::string> helps;
  helps.reserve(16);
  auto help = [&](std::string text) {
    helps.push_back(std::move(text));
    return std::string_view(helps.back());
  };
  out.insert(
      out.end(),
      {
          {key("url"),
           ValueKind::url,
           "",
           help(fmt::format("Download the {} from this URL.", what)),
           LayerKind::system,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_url(*n, G(c.p, true)->url); },
           [](const Profile& p, RenderCtx& r) {
             if (const Artifact* a = cget<G>(p); a && !a->url.value.empty()) {
               r(a->url.value, a->url.loc);
             }
           }},
          {key("file"),
           ValueKind::path,
           "",
           help(fmt::format("Take the {} from this local file.", what)),
           LayerKind::system,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_path(*n, G(c.p, true)->file); },
           [](const Profile& p, RenderCtx& r) {
             if (const Artifact* a = cget<G>(p); a && !a->file.value.empty()) {
               r(a->file.value.string(), a->file.loc);
             }
           }},
          {key("sha256"),
           ValueKind::string,
           "",
           help(fmt::format("SHA-256 of the {}.", what)),
           LayerKind::system,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_sha256(*n, G(c.p, true)->checksum.sha256); },
           [](const Profile& p, RenderCtx& r) {
             if (const Artifact* a = cget<G>(p); a && !a->checksum.sha256.value.empty()) {
               r(a->checksum.sha256.value, a->checksum.sha256.loc);
             }
           }},
          {key("sha256sums"),
           ValueKind::url_or_path,
           "",
           help(fmt::format("A sha256sum-style file (URL or path) listing the {} by file name.", what)),
           LayerKind::system,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_url_or_path(*n, G(c.p, true)->checksum.sha256sums); },
           [](const Profile& p, RenderCtx& r) {
             if (const Artifact* a = cget<G>(p); a && !a->checksum.sha256sums.value.empty()) {
               r(a->checksum.sha256sums.value, a->checksum.sha256sums.loc);
             }
           }},
      });
}

// `k3s.image_lists`: `.txt` files, resolved against the YAML file that names them; unique names
// (they share one directory in the image). Their contents are checked when the layer is built.
void parse_image_lists(const Node* n, ParseCtx& c) {
  StringList items;
  if (!c.get_list(*n, items)) {
    return;
  }
  c.p.k3s.image_lists = {{}, items.loc};
  std::set<std::string> names;
  for (const auto& item : items.value) {
    Node node;
    node.kind = Node::Kind::scalar;
    node.text = item.value;
    node.loc = item.loc;
    auto v = c.expanded(node);
    if (!v) {
      continue;
    }
    std::filesystem::path path = resolve_path(ParseCtx::dir_of(item.loc), *v);
    std::string name = path.filename().string();
    if (!name.ends_with(".txt") || name == ".txt") {
      c.error(node, fmt::format("image list '{}' must be a '.txt' file (k3s reads image lists "
                                "by that extension)",
                                item.value));
      continue;
    }
    if (!names.insert(name).second) {
      c.error(node, fmt::format("image list name '{}' is used twice (they share "
                                "/var/lib/rancher/k3s/agent/images/)",
                                name));
      continue;
    }
    c.p.k3s.image_lists.value.push_back({path, item.loc});
  }
}

void parse_k3s_version(const Node* n, ParseCtx& c) {
  if (!c.get(*n, c.p.k3s.version)) {
    return;
  }
  static const std::regex k_re(R"(v[0-9]+\.[0-9]+\.[0-9]+(-rc[0-9]+)?\+k3s[0-9]+)");
  if (!std::regex_match(n->text, k_re)) {
    c.error(*n, fmt::format("invalid k3s version '{}': expected e.g. 'v1.33.5+k3s1'", n->text));
  }
}

}  // namespace

void add_k3s_settings(std::vector<SettingSpec>& out) {
  out.insert(out.end(),
             {
                 {"k3s",
                  ValueKind::section,
                  "",
                  "The k3s distribution baked into the image (installed, "
                  "not enabled: binder-firstboot configures and starts it).",
                  LayerKind::system,
                  {},
                  false,
                  false,
                  [](const Node*, ParseCtx&) {},
                  nullptr},
                 {"k3s.version",
                  ValueKind::string,
                  "v1.33.5+k3s1",
                  "The k3s release; the default URLs of `binary` and `airgap_images` follow it.",
                  LayerKind::system,
                  {},
                  false,
                  false,
                  parse_k3s_version,
                  [](const Profile& p, RenderCtx& r) { r(p.k3s.version.value, p.k3s.version.loc); }},
                 {"k3s.install",
                  ValueKind::boolean,
                  "true",
                  "Put k3s into the image. `false` leaves all k3s files out (a plain base image).",
                  LayerKind::system,
                  {},
                  false,
                  false,
                  [](const Node* n, ParseCtx& c) { c.get(*n, c.p.k3s.install); },
                  [](const Profile& p, RenderCtx& r) { r(text_of(p.k3s.install), p.k3s.install.loc); }},
                 {"k3s.binary",
                  ValueKind::section,
                  "{url: <release>/k3s, sha256sums: <release>/sha256sum-amd64.txt}",
                  "The k3s binary: `url` or `file`, with `sha256` or `sha256sums`. `<release>` is "
                  "`https://github.com/k3s-io/k3s/releases/download/<version>`.",
                  LayerKind::system,
                  {},
                  false,
                  true,
                  [](const Node* n, ParseCtx& c) {
                    if (n == nullptr || n->kind == Node::Kind::null) {
                      c.p.k3s.binary = release_artifact(c.p, "k3s");
                    } else {
                      check_artifact(*n, c, c.p.k3s.binary, true);
                    }
                  },
                  nullptr},
             });
  add_artifact_keys<binary>(out, "k3s.binary", "k3s binary");
  out.push_back(
      {"k3s.airgap_images",
       ValueKind::section,
       "{url: <release>/k3s-airgap-images-amd64.tar.zst, sha256sums: <release>/sha256sum-amd64.txt}",
       "The airgap image tarball placed in `/var/lib/rancher/k3s/agent/images/`: `url` or "
       "`file`, with `sha256` or `sha256sums`. `null` bakes no images (k3s pulls them at boot).",
       LayerKind::system,
       {},
       false,
       true,
       [](const Node* n, ParseCtx& c) {
         if (n == nullptr) {
           c.p.k3s.airgap_images = release_artifact(c.p, "k3s-airgap-images-amd64.tar.zst");
         } else if (n->kind == Node::Kind::null) {
           c.p.k3s.airgap_images.reset();
         } else {
           check_artifact(*n, c, *airgap(c.p, true), true);
         }
       },
       nullptr});
  add_artifact_keys<airgap>(out, "k3s.airgap_images", "airgap image tarball");
  out.push_back({"k3s.image_lists",
                 ValueKind::string_list,
                 "[]",
                 "Image lists placed beside the airgap tarball in `/var/lib/rancher/k3s/agent/images/`: "
                 "`.txt` files (paths relative to the profile file) holding one image reference a line, "
                 "which k3s pulls when it starts; nothing else (no blank lines, no comments).",
                 LayerKind::system,
                 {},
                 false,
                 false,
                 parse_image_lists,
                 [](const Profile& p, RenderCtx& r) {
                   for (std::size_t i = 0; i < p.k3s.image_lists.value.size(); ++i) {
                     const auto& l = p.k3s.image_lists.value[i];
                     r.sub(fmt::format("[{}]", i), l.value.string(), l.loc);
                   }
                 }});
}

}  // namespace binder::config::detail
