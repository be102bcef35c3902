// The two files a federation member hands to mybinder.org-deploy so the central deploy can take
// it over, in the shape of the real members' files (shared/reference/mybinder/hetzner-2i2c.yaml,
// member spec §2.1 and §2.3):
//   config/<name>.yaml          hostnames, S3 bucket, replicas, quota, dind resources, ingress
//   secrets/config/<name>.yaml  Harbor admin/stable secrets, S3 keys, Grafana password, robot
//                               credentials (git-crypt encrypted in the central repo)
// Metadata binderhub.values is merged last into the `binderhub:` section of the config file.
// Standalone members get neither file.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "firstboot/metadata/member.hpp"
#include "firstboot/render/secrets_view.hpp"
#include "firstboot/render/sizing.hpp"

namespace binder::firstboot::render {

nlohmann::json mybinder_config(const Member& member, const Sizing& size);
nlohmann::json mybinder_secrets(const Member& member, const SecretsView& secrets);

// "config/<name>.yaml" and "secrets/config/<name>.yaml" (paths inside mybinder.org-deploy).
std::string mybinder_config_path(const Member& member);
std::string mybinder_secrets_path(const Member& member);

// The file text: a comment header naming the member and the generator, then the YAML.
std::string mybinder_file_text(const Member& member, const nlohmann::json& doc, bool secrets);

}  // namespace binder::firstboot::render
