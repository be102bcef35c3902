// Settings: overlays, required packages, firstboot, member, reproducible and outputs.
#include <regex>

#include "config/output_rules.hpp"
#include "config/settings_internal.hpp"
#include "config/values.hpp"

namespace binder::config::detail {
namespace {

void parse_overlays(const Node* n, ParseCtx& c) {
  StringList names;
  if (!c.get_list(*n, names)) {
    return;
  }
  c.p.overlays.clear();
  for (const auto& name : names.value) {
    Node item;
    item.kind = Node::Kind::scalar;
    item.text = name.value;
    item.loc = name.loc;
    auto v = c.expanded(item);
    if (!v) {
      continue;
    }
    bool plain = v->find('/') == std::string::npos && *v != "." && *v != "..";
    // A plain name from --set means the overlays next to the profile being built.
    std::filesystem::path dir =
        plain && name.loc.line <= 0 ? c.p.path.parent_path() : ParseCtx::dir_of(name.loc);
    if (dir.empty()) {
      dir = ".";
    }
    std::filesystem::path resolved = plain ? resolve_path(dir, "../overlays/" + *v) : resolve_path(dir, *v);
    c.p.overlays.push_back(Overlay{name, resolved});
  }
}

void parse_packages(const Node* n, ParseCtx& c) {
  if (!c.get_list(*n, c.p.required_packages)) {
    return;
  }
  static const std::regex k_pkg(R"([a-z0-9][a-z0-9+.-]+)");
  for (const auto& s : c.p.required_packages.value) {
    if (!std::regex_match(s.value, k_pkg)) {
      c.diags.error(s.loc, fmt::format("invalid package name '{}'", s.value), std::nullopt,
                    static_cast<int>(s.value.size()));
    }
  }
}

void parse_outputs(const Node* n, ParseCtx& c) {
  c.p.outputs.clear();
  if (!c.expect(*n, Node::Kind::seq, "a list")) {
    return;
  }
  if (n->items.empty()) {
    c.error(*n, "'outputs' needs at least one output");
  }
  for (const Node& item : n->items) {
    Output o;
    o.loc = item.loc;
    c.p.outputs.push_back(o);
  }
}

Output& current(ParseCtx& c) { return c.p.outputs.at(c.item); }

}  // namespace

void add_final_settings(std::vector<SettingSpec>& out) {
  out.insert(
      out.end(),
      {
          {"overlays",
           ValueKind::string_list,
           "[]",
           "File trees copied into the image root, in order (later ones win). A plain name is the "
           "directory `overlays/<name>` next to the profile's directory (`<profile dir>/../overlays`); "
           "anything with a `/` is a path relative to the profile file. Modes are kept; owners become "
           "root.",
           LayerKind::final,
           {},
           false,
           false,
           parse_overlays,
           [](const Profile& p, RenderCtx& r) {
             for (std::size_t i = 0; i < p.overlays.size(); ++i) {
               r.sub(fmt::format("[{}]", i), p.overlays[i].dir.string(), p.overlays[i].name.loc);
             }
           }},
          {"required_packages",
           ValueKind::string_list,
           "[]",
           "Debian packages that must already be installed in the base image (checked against its "
           "dpkg status before anything is built; nothing is installed).",
           LayerKind::none,
           {},
           false,
           false,
           parse_packages,
           [](const Profile& p, RenderCtx& r) { r(text_of(p.required_packages), p.required_packages.loc); }},
          {"firstboot",
           ValueKind::section,
           "",
           "The binder-firstboot agent.",
           LayerKind::final,
           {},
           false,
           false,
           [](const Node*, ParseCtx&) {},
           nullptr},
          {"firstboot.binary",
           ValueKind::path,
           "",
           "The binder-firstboot binary to install as `/usr/local/sbin/binder-firstboot`; by default "
           "the one built next to binder-image.",
           LayerKind::final,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_path(*n, c.p.firstboot.binary); },
           [](const Profile& p, RenderCtx& r) {
             if (!p.firstboot.binary.value.empty()) {
               r(text_of(p.firstboot.binary), p.firstboot.binary.loc);
             }
           }},
          {"firstboot.enable",
           ValueKind::boolean,
           "true",
           "Enable `binder-firstboot.service` so the first boot provisions the member.",
           LayerKind::final,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get(*n, c.p.firstboot.enable); },
           [](const Profile& p, RenderCtx& r) { r(text_of(p.firstboot.enable), p.firstboot.enable.loc); }},
          {"member",
           ValueKind::section,
           "",
           "Member metadata baked into the image as `/etc/binder-image/member.yaml` (user-data and "
           "`member.d/` override it at boot).",
           LayerKind::final,
           {},
           false,
           false,
           [](const Node*, ParseCtx&) {},
           nullptr},
          {"member.file",
           ValueKind::path,
           "",
           "A member YAML file. Refused if it holds secrets (`dns.api_token`, "
           "`registry.s3.access_key`/`secret_key`, any key named like password, token or secret) "
           "unless `allow_baked_secrets` is true.",
           LayerKind::final,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_path(*n, c.p.member.file); },
           [](const Profile& p, RenderCtx& r) {
             if (!p.member.file.value.empty()) {
               r(text_of(p.member.file), p.member.file.loc);
             }
           }},
          {"member.allow_baked_secrets",
           ValueKind::boolean,
           "false",
           "Allow secrets in `member.file`: anyone with the image can read them.",
           LayerKind::final,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get(*n, c.p.member.allow_baked_secrets); },
           [](const Profile& p, RenderCtx& r) {
             r(text_of(p.member.allow_baked_secrets), p.member.allow_baked_secrets.loc);
           }},
          {"reproducible",
           ValueKind::section,
           "",
           "Reproducible builds.",
           LayerKind::system,
           {},
           false,
           false,
           [](const Node*, ParseCtx&) {},
           nullptr},
          {"reproducible.source_date_epoch",
           ValueKind::integer,
           "",
           "Timestamp (seconds since 1970) for every file mtime the builder writes, the SBOM's "
           "creation time and the output headers; unset uses $SOURCE_DATE_EPOCH, else 1700000000 "
           "for file times (outputs then carry their own times). Part of every layer's digest.",
           LayerKind::system,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_epoch(*n, c.p.reproducible.source_date_epoch); },
           [](const Profile& p, RenderCtx& r) {
             if (p.reproducible.source_date_epoch.value) {
               r(fmt::format("{}", *p.reproducible.source_date_epoch.value),
                 p.reproducible.source_date_epoch.loc);
             }
           }},
          {"outputs",
           ValueKind::list,
           "[{format: qcow2}]",
           output_rules_help(),
           LayerKind::export_,
           {},
           false,
           false,
           parse_outputs,
           nullptr},
          {"outputs[].format",
           ValueKind::enumeration,
           "",
           "The image format.",
           LayerKind::export_,
           {"qcow2", "raw", "vmdk", "ova", "vhd", "gcp-tar"},
           true,
           false,
           [](const Node* n, ParseCtx& c) { c.get_enum(*n, current(c).format); },
           [](const Profile& p, RenderCtx& r) {
             for (std::size_t i = 0; i < p.outputs.size(); ++i) {
               r.item(i, std::string(to_string(p.outputs[i].format.value)), p.outputs[i].format.loc);
             }
           }},
          {"outputs[].compression",
           ValueKind::enumeration,
           "none (gzip for gcp-tar)",
           "Compression of the output file (qcow2: internal cluster compression).",
           LayerKind::export_,
           {"none", "zstd", "zlib", "xz", "gzip"},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get_enum(*n, current(c).compression); },
           [](const Profile& p, RenderCtx& r) {
             for (std::size_t i = 0; i < p.outputs.size(); ++i) {
               r.item(i, std::string(to_string(p.outputs[i].compression.value)),
                      p.outputs[i].compression.loc);
             }
           }},
          {"outputs[].name",
           ValueKind::string,
           "",
           "Output file stem; default: the profile name.",
           LayerKind::export_,
           {},
           false,
           false,
           [](const Node* n, ParseCtx& c) { c.get(*n, current(c).name); },
           [](const Profile& p, RenderCtx& r) {
             for (std::size_t i = 0; i < p.outputs.size(); ++i) {
               if (!p.outputs[i].name.value.empty()) {
                 r.item(i, p.outputs[i].name.value, p.outputs[i].name.loc);
               }
             }
           }},
      });
}

}  // namespace binder::config::detail
