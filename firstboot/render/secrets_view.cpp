// SecretsView: a map with placeholders for what is missing.
#include "firstboot/render/secrets_view.hpp"

namespace binder::firstboot::render {

SecretsView SecretsView::from_member(const Member& member) {
  SecretsView view;
  if (member.registry && member.registry->s3) {
    if (!member.registry->s3->access_key.empty())
      view.set(secret::s3_access_key, member.registry->s3->access_key);
    if (!member.registry->s3->secret_key.empty())
      view.set(secret::s3_secret_key, member.registry->s3->secret_key);
  }
  if (member.registry && !member.registry->password.empty()) {
    view.set(secret::registry_password, member.registry->password);
  }
  if (!member.binderhub.github_token.empty())
    view.set(secret::github_token, member.binderhub.github_token);
  return view;
}

std::string SecretsView::get(std::string_view name) const {
  auto it = m_values.find(std::string(name));
  return it == m_values.end() ? placeholder(name) : it->second;
}

}  // namespace binder::firstboot::render
