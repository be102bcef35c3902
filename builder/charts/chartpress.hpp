// chartpress, offline: what `chartpress` (2.x) writes into a chart before packaging, from pins
// instead of git history. Image tags: every `set-by-chartpress` in values.yaml sits at an image's
// values path, in one of two forms, both replaced with the pinned reference:
//   <path>:            analyticsPublisher.image:
//     name: <repo>       name: jupyterhub/mybinder.org-analytics-publisher
//     tag: set-by-...    tag: "set-by-chartpress"          -> tag: "<pinned tag>"
//   <path>: <repo>:set-by-chartpress                        -> <path>: <pinned repo:tag>
// List items count as path segments ("binderhub.jupyterhub.singleuser.initContainers.0.image").
// The chart version `0.0.1-set.by.chartpress` in Chart.yaml becomes the pinned version. The edit
// is textual (comments and layout stay as upstream wrote them). Non-logging.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace binder::charts {

using common::Result;

// Replaces the placeholders in `values_yaml` (named `file` in errors) with `images`
// (values path -> "repo:tag"). Errc::invalid_config, naming file:line and the values path, for a
// placeholder at a path with no pin, a pin whose repository differs from the chart's, or a pin
// whose path has no placeholder.
Result<std::string> pin_values_images(std::string_view values_yaml, std::string_view file,
                                      const std::map<std::string, std::string>& images);

// Sets Chart.yaml's `version:` to `version` (it must be the chartpress placeholder or already
// equal). Errc::invalid_config naming `file` otherwise.
Result<std::string> pin_chart_version(std::string_view chart_yaml, std::string_view file,
                                      std::string_view version);

// True when `data` still holds a chartpress placeholder ("set-by-chartpress" or
// "set.by.chartpress").
bool has_chartpress_placeholder(std::string_view data);

// "repo:tag" -> {"repo", "tag"} (the tag after the last ':' that follows the last '/').
std::pair<std::string, std::string> split_image(std::string_view ref);

}  // namespace binder::charts
