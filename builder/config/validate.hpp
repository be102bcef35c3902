// Cross-field rules checked after every key parsed cleanly (each a named function in
// validate.cpp): output defaults and provider rules, unique output files, and baked member
// secrets. Internal to binder_config; load_profile() calls it.
#pragma once

#include "config/diagnostics.hpp"
#include "config/profile.hpp"

namespace binder::config {

// Fills per-output defaults (compression: gzip for gcp-tar, else none) and reports every
// violated rule to `diags`.
void validate_profile(Profile& profile, Diagnostics& diags);

// Dotted key paths of non-empty secret values in a member YAML tree (a leading
// `binder_member` key is dropped): dns.api_token, registry.s3.access_key/secret_key and any
// key whose name contains password, token or secret.
struct SecretKey {
  std::string path;
  std::string value;  // scalar text, or the flow text of a list
  SourceLoc loc;
};
struct Node;
std::vector<SecretKey> find_member_secrets(const Node& member_root);

}  // namespace binder::config
