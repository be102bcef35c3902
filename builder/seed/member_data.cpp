// member-data: a member file -> `#cloud-config` user-data. The member document is copied as
// text (re-indented under `binder_member:`), not re-emitted from a parsed tree: yaml-cpp loses
// the quoting of scalars, and `quota_gb: '10000'` must stay what the donor wrote. The result is
// parsed back and compared with the input so a copying mistake can never ship.
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "common/fs.hpp"
#include "seed/seed.hpp"

namespace binder::seed {

namespace {

using common::Errc;
using common::fail;

constexpr std::string_view k_bundle_path = "/etc/ssl/certs/ca-certificates.crt";
constexpr std::string_view k_local_ca_path = "/usr/local/share/ca-certificates/binder-extra-ca.crt";

std::string where(std::string_view source, const YAML::Mark& m) {
  return fmt::format("{}:{}:{}", source, m.line + 1, m.column + 1);
}

Result<YAML::Node> parse(std::string_view text, std::string_view source) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return fail(Errc::invalid_config, "{}: error: {}", where(source, e.mark), e.msg);
  } catch (const YAML::Exception& e) {
    return fail(Errc::invalid_config, "{}: error: {}", source, e.what());
  }
}

// Canonical text of a node, to compare two trees (tags included: "!" marks quoted scalars).
std::string canonical(const YAML::Node& n) {
  YAML::Emitter out;
  out << YAML::Flow << n;
  return out.c_str();
}

bool is_single_key_wrapper(const YAML::Node& doc) {
  return doc.IsMap() && doc.size() == 1 && doc["binder_member"];
}

Result<YAML::Node> member_node(const YAML::Node& doc, std::string_view source) {
  YAML::Node member = is_single_key_wrapper(doc) ? doc["binder_member"] : doc;
  if (!member.IsMap()) {
    return fail(Errc::invalid_config, "{}: error: the member document must be a mapping",
                where(source, member.Mark()));
  }
  YAML::Node name = member["name"];
  if (!name || !name.IsScalar() || name.Scalar().empty()) {
    return fail(Errc::invalid_config, "{}: error: missing key 'name' (the member's cluster name)",
                where(source, member.Mark()));
  }
  return member;
}

// The document's lines minus directives, `---`/`...` markers and whole-line comments at the top
// level, indented by `indent` spaces. Block scalars keep their relative indentation.
std::string indented_body(std::string_view text, int indent) {
  std::istringstream in{std::string(text)};
  std::string line;
  std::string out;
  std::string pad(static_cast<size_t>(indent), ' ');
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.starts_with("%") || line == "---" || line.starts_with("--- ") || line == "...") {
      continue;
    }
    out += line.empty() ? std::string() : pad + line;
    out += '\n';
  }
  return out;
}

std::string yaml_quoted(std::string_view s);

// A literal block when the text survives one unchanged (one trailing newline, no leading space,
// no CR), else a double-quoted scalar: either way the value round-trips exactly.
std::string block_or_quoted(std::string_view key_indent, std::string_view text) {
  bool literal_ok = !text.empty() && text.back() == '\n' && !text.ends_with("\n\n") && text.front() != ' ' &&
                    text.front() != '\n' && text.find('\r') == std::string_view::npos &&
                    text.find('\t') == std::string_view::npos;
  if (!literal_ok) {
    return yaml_quoted(text) + "\n";
  }
  std::string out = "|\n";
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    out += line.empty() ? std::string() : std::string(key_indent) + line;
    out += '\n';
  }
  return out;
}

std::string yaml_quoted(std::string_view s) {
  YAML::Emitter e;
  e << YAML::DoubleQuoted << std::string(s);
  return e.c_str();
}

// The cloud-config keys around the member document. Strings are written double-quoted and
// multi-line contents as literal blocks, so no value can change meaning.
std::string cloud_config_tail(const MemberDataOptions& o) {
  std::string out;
  out += "locale: C.UTF-8\n";
  out += "ssh_genkeytypes: [ed25519]\n";
  std::vector<WriteFile> files;
  if (o.ca_cert_pem && o.ca_install == CaInstall::ca_certs_module) {
    out += "ca_certs:\n  trusted:\n    - " + block_or_quoted("      ", *o.ca_cert_pem);
  } else if (o.ca_cert_pem) {
    files.push_back({std::string(k_local_ca_path), *o.ca_cert_pem, "0644"});
    files.push_back({std::string(k_bundle_path), *o.ca_cert_pem, "0644", true});
  }
  files.insert(files.end(), o.write_files.begin(), o.write_files.end());
  if (!files.empty()) {
    out += "write_files:\n";
    for (const WriteFile& f : files) {
      out += "  - path: " + yaml_quoted(f.path) + "\n";
      out += "    permissions: " + yaml_quoted(f.permissions) + "\n";
      out += "    owner: \"root:root\"\n";
      if (f.append) {
        out += "    append: true\n";
      }
      out += "    content: " + block_or_quoted("      ", f.content);
    }
  }
  if (!o.runcmd.empty()) {
    out += "runcmd:\n";
    for (const std::string& c : o.runcmd) {
      out += "  - " + yaml_quoted(c) + "\n";
    }
  }
  return out;
}

}  // namespace

Result<std::string> member_data_from_text(std::string_view yaml, std::string_view source,
                                          const MemberDataOptions& options) {
  TRY_ASSIGN(YAML::Node doc, parse(yaml, source));
  TRY_ASSIGN(YAML::Node member, member_node(doc, source));

  std::string out = "#cloud-config\n";
  out += "# binder-image member-data: paste this as the VM's user-data. It holds secrets.\n";
  if (is_single_key_wrapper(doc)) {
    out += indented_body(yaml, 0);
  } else {
    out += "binder_member:\n" + indented_body(yaml, 2);
  }
  out += cloud_config_tail(options);

  // Self-check: the packaged document must parse to exactly the member tree we were given.
  auto back = parse(out, "<member-data>");
  if (!back || !(*back)["binder_member"] || canonical((*back)["binder_member"]) != canonical(member)) {
    return fail(Errc::invalid_config,
                "{}: error: the member document cannot be embedded as-is (flow-style top "
                "level or tabs?); write it as a block mapping",
                source);
  }
  return out;
}

Result<std::string> member_data(const std::filesystem::path& member_yaml, const MemberDataOptions& options) {
  TRY_ASSIGN(std::string text, common::fs::read_file(member_yaml));
  return member_data_from_text(text, member_yaml.string(), options);
}

Result<std::string> member_name(const std::filesystem::path& member_yaml) {
  TRY_ASSIGN(std::string text, common::fs::read_file(member_yaml));
  TRY_ASSIGN(YAML::Node doc, parse(text, member_yaml.string()));
  TRY_ASSIGN(YAML::Node member, member_node(doc, member_yaml.string()));
  return member["name"].Scalar();
}

std::string meta_data(std::string_view instance_id, std::string_view hostname) {
  return fmt::format("instance-id: {}\nlocal-hostname: {}\n", yaml_quoted(instance_id),
                     yaml_quoted(hostname));
}

}  // namespace binder::seed
