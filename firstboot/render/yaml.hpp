// JSON values as YAML text, for every document the renderer prints or hands to Kubernetes
// (HelmChart manifests, chart values, kubeconfig, mybinder files). Block style, mapping keys in
// sorted order (nlohmann::json objects are sorted, as PyYAML's yaml.dump sorts them), sequences
// not indented under their key (PyYAML's default), multi-line strings as literal blocks, and any
// string YAML 1.1 or 1.2 would read as something else (true, no, 1e3, 0x1f, ~, 2026-01-01, ...)
// double-quoted, so parsing the output with either PyYAML or yaml-cpp gives back the same JSON.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace binder::firstboot::render {

// The YAML document for `value` (ends with a newline; a scalar or empty container is one line).
std::string to_yaml(const nlohmann::json& value);

// YAML text to JSON with YAML 1.2 core-schema typing (via the metadata parser). Errc::invalid_config
// naming `origin` on syntax errors.
common::Result<nlohmann::json> from_yaml(std::string_view text, std::string origin);

// True if `s` must be quoted to stay a string in YAML (exposed for tests).
bool needs_quotes(std::string_view s);

}  // namespace binder::firstboot::render
