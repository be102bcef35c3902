// See validate.hpp and load.hpp (check_inputs_exist). Each rule is one function; messages name
// the rule and quote the other value's location, since a rule joins two settings.
#include "config/validate.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/fs.hpp"
#include "config/load.hpp"
#include "config/output_rules.hpp"
#include "config/tree.hpp"
#include "config/values.hpp"

namespace binder::config {
namespace {

void default_compression(Output& o) {
  if (o.compression.loc.path.empty()) {
    o.compression = {config::default_compression(o.format.value), SourceLoc{"<default>", 0, 0}};
  }
}

// Provider rules (output_rules.cpp, one table). Each problem points at the value to change: the
// compression, or disk.size when a file set it, else the output's format.
void check_output_rules(const Profile& p, const Output& o, std::size_t i, Diagnostics& d) {
  for (const OutputProblem& problem : check_output(o.format.value, o.compression.value, p.disk.size.value)) {
    if (problem.field == OutputProblem::Field::compression) {
      d.error(o.compression.loc.line > 0 ? o.compression.loc : o.format.loc,
              fmt::format("'outputs[{}]' (format '{}'): {}", i, to_string(o.format.value), problem.message));
    } else {
      const auto& size = p.disk.size;
      d.error(size.loc.line > 0 ? size.loc : o.format.loc,
              fmt::format("'disk.size' {} does not suit 'outputs[{}]' (format '{}' at {}): {}",
                          format_size(size.value), i, to_string(o.format.value), o.format.loc.to_string(),
                          problem.message));
    }
  }
}

// Two outputs may not write the same file.
void check_unique_outputs(const Profile& p, Diagnostics& d) {
  std::set<std::tuple<std::string, Format, Compression>> seen;
  for (std::size_t i = 0; i < p.outputs.size(); ++i) {
    const Output& o = p.outputs[i];
    std::string stem = o.name.value.empty() ? p.name.value : o.name.value;
    if (!seen.insert({stem, o.format.value, o.compression.value}).second) {
      d.error(o.loc, fmt::format("'outputs[{}]' writes the same file as an earlier output "
                                 "('{}', {}, {}); give it a different 'name'",
                                 i, stem, to_string(o.format.value), to_string(o.compression.value)));
    }
  }
}

// A member file with secrets is only baked when the profile says so explicitly.
void check_member(const Profile& p, Diagnostics& d) {
  const auto& file = p.member.file;
  if (file.value.empty()) {
    return;
  }
  auto text = common::fs::read_file(file.value);
  if (!text) {
    d.error(file.loc,
            fmt::format("cannot read member file '{}': {}", file.value.string(), text.error().message));
    return;
  }
  auto root = parse_yaml(*text, file.value.string(), d);
  if (!root || p.member.allow_baked_secrets.value) {
    return;
  }
  std::vector<std::string> keys;
  for (const SecretKey& s : find_member_secrets(*root)) {
    keys.push_back(fmt::format("'{}' ({})", s.path, s.loc.to_string()));
  }
  if (!keys.empty()) {
    d.error(file.loc, fmt::format("member file '{}' holds secrets: {}; anyone with the image could read "
                                  "them. Pass secrets in user-data, or set "
                                  "'member.allow_baked_secrets: true'",
                                  file.value.filename().string(), fmt::join(keys, ", ")));
  }
}

bool secret_name(std::string_view key) {
  std::string lower;
  for (char ch : key) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  return lower.find("password") != std::string::npos || lower.find("token") != std::string::npos ||
         lower.find("secret") != std::string::npos;
}

void scan(const Node& n, const std::string& prefix, std::vector<SecretKey>& out) {
  for (const Entry& e : n.entries) {
    std::string path = prefix.empty() ? e.key : prefix + "." + e.key;
    if (e.value.is_map()) {
      scan(e.value, path, out);
      continue;
    }
    bool listed =
        path == "dns.api_token" || path == "registry.s3.access_key" || path == "registry.s3.secret_key";
    bool has_value = e.value.kind == Node::Kind::seq ? !e.value.items.empty() : !e.value.text.empty();
    if ((listed || secret_name(e.key)) && has_value) {
      std::string value = e.value.text;
      for (const Node& i : e.value.items) {
        value += (value.empty() ? "" : "\n") + i.text;
      }
      out.push_back({path, value, e.value.loc});
    }
  }
}

}  // namespace

std::vector<SecretKey> find_member_secrets(const Node& member_root) {
  std::vector<SecretKey> out;
  const Node* root = &member_root;
  if (const Node* wrapped = member_root.find("binder_member"); wrapped && wrapped->is_map()) {
    root = wrapped;
  }
  scan(*root, "", out);
  return out;
}

void validate_profile(Profile& p, Diagnostics& d) {
  for (std::size_t i = 0; i < p.outputs.size(); ++i) {
    default_compression(p.outputs[i]);
    check_output_rules(p, p.outputs[i], i, d);
  }
  check_unique_outputs(p, d);
  check_member(p, d);
}

Result<std::vector<std::string>> member_secret_values(const Profile& p) {
  std::vector<std::string> out;
  if (p.member.file.value.empty()) {
    return out;
  }
  TRY_ASSIGN(std::string text, common::fs::read_file(p.member.file.value));
  Diagnostics d;
  auto root = parse_yaml(text, p.member.file.value.string(), d);
  if (!root || !d.empty()) {
    return std::unexpected(d.to_error());
  }
  for (const SecretKey& s : find_member_secrets(*root)) {
    out.push_back(s.value);
  }
  return out;
}

Result<void> check_inputs_exist(const Profile& p) {
  Diagnostics d;
  for (const auto& f : p.files) {
    if (auto text = common::fs::read_file(f)) {
      d.add_source(f.string(), *text);
    }
  }
  auto need = [&](const std::filesystem::path& path, const SourceLoc& loc, std::string_view what,
                  bool directory) {
    std::error_code ec;
    auto st = std::filesystem::status(path, ec);
    bool ok = directory ? std::filesystem::is_directory(st) : std::filesystem::is_regular_file(st);
    if (!ok) {
      d.error(loc, fmt::format("{} '{}' {}", what, path.string(),
                               std::filesystem::exists(st) ? "has the wrong type" : "does not exist"));
    }
  };
  auto artifact = [&](const Artifact& a, std::string_view what) {
    if (!a.file.value.empty()) {
      need(a.file.value, a.file.loc, what, false);
    }
    const auto& sums = a.checksum.sha256sums;
    if (!sums.value.empty() && !Checksum::is_url(sums.value)) {
      need(sums.value, sums.loc, "checksum file", false);
    }
    for (const auto* f : {&a.checksum.signature, &a.checksum.keyring}) {
      if (!f->value.empty() && !Checksum::is_url(f->value) && !f->value.starts_with("builtin:")) {
        need(f->value, f->loc, f == &a.checksum.signature ? "signature file" : "keyring file", false);
      }
    }
  };
  artifact(p.base.artifact, p.base.kind.value == BaseKind::rootfs ? "rootfs tarball" : "base image");
  if (p.k3s.install.value) {
    artifact(p.k3s.binary, "k3s binary");
    if (p.k3s.airgap_images) {
      artifact(*p.k3s.airgap_images, "airgap image tarball");
    }
    for (const auto& l : p.k3s.image_lists.value) {
      need(l.value, l.loc, "image list", false);
    }
  }
  for (const Overlay& o : p.overlays) {
    need(o.dir, o.name.loc, "overlay directory", true);
  }
  if (!p.firstboot.binary.value.empty()) {
    need(p.firstboot.binary.value, p.firstboot.binary.loc, "firstboot binary", false);
  }
  if (!d.empty()) {
    return std::unexpected(d.to_error());
  }
  return {};
}

}  // namespace binder::config
