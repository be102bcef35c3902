// The binder_member registry section (see validate.cpp for the schema's other sections).
#include "firstboot/metadata/reader.hpp"

namespace binder::firstboot::metadata_detail {

// registry: kind (harbor-s3 | harbor-local | external; absent: harbor-s3 when s3 is given, else
// harbor-local), the Harbor keys (host, project, quota_gb, s3) or the external ones (url,
// username, password, image_prefix). A key of the other family is an error naming the kind.
void read_registry(Reader& r, const json& root, Member& m) {
  static const std::vector<std::string> k_harbor_keys = {"host", "s3", "project", "quota_gb"};
  static const std::vector<std::string> k_external_keys = {"url", "username", "password", "image_prefix"};
  std::vector<std::string> known = {"kind"};
  known.insert(known.end(), k_harbor_keys.begin(), k_harbor_keys.end());
  known.insert(known.end(), k_external_keys.begin(), k_external_keys.end());
  const json* reg = r.object(root, "registry", "registry", known);
  if (!reg) {
    if (m.mode == Mode::standalone) {
      m.registry = RegistryConfig{};  // the standalone default: harbor-local
    }
    return;
  }
  RegistryConfig rc;
  bool has_s3 = reg->contains("s3") && !reg->at("s3").is_null();
  rc.kind = has_s3 ? RegistryKind::harbor_s3 : RegistryKind::harbor_local;
  if (auto k = r.choice<RegistryKind>(*reg, "kind", "registry.kind",
                                      {{"harbor-s3", RegistryKind::harbor_s3},
                                       {"harbor-local", RegistryKind::harbor_local},
                                       {"external", RegistryKind::external}})) {
    rc.kind = *k;
  } else if (reg->contains("kind") && !reg->at("kind").is_null()) {
    m.registry = rc;
    return;  // reported; the other checks would only add noise
  }
  const auto& foreign = rc.harbor() ? k_external_keys : k_harbor_keys;
  for (const auto& key : foreign) {
    if (reg->contains(key) && !(key == "s3" && !has_s3)) {
      r.error("registry." + key,
              fmt::format("not used with registry.kind {} ({})", to_string(rc.kind),
                          rc.harbor() ? "the external registry keys are url, username, "
                                        "password, image_prefix"
                                      : "the Harbor keys are host, project, quota_gb, s3"));
    }
  }
  // Federation members run the mybinder chart's own Harbor: harbor-s3 (what real members use),
  // or harbor-local (images on the registry's volume: config/<name>.yaml says so explicitly,
  // mybinder_files.cpp, since mybinder's values.yaml defaults Harbor to an s3 type).
  if (m.mode == Mode::federation && rc.kind == RegistryKind::external) {
    r.error("registry.kind",
            "external is for standalone members: a federation member runs the "
            "mybinder chart's Harbor (use harbor-s3 with registry.s3)");
  }
  if (rc.kind == RegistryKind::external) {
    rc.url = r.required(*reg, "url", "registry.url");
    if (!rc.url.empty() &&
        ((!rc.url.starts_with("https://") && !rc.url.starts_with("http://")) || url_host(rc.url).empty())) {
      r.error("registry.url", fmt::format("'{}' is not an http(s) URL", rc.url));
    }
    rc.username = r.required(*reg, "username", "registry.username");
    rc.password = r.required(*reg, "password", "registry.password");
    rc.image_prefix = r.string(*reg, "image_prefix", "registry.image_prefix").value_or("");
    static const std::regex k_prefix(R"([a-z0-9.:-]+(/[a-z0-9._-]+)+/?[a-z0-9._-]*)");
    if (!rc.image_prefix.empty() && !std::regex_match(rc.image_prefix, k_prefix)) {
      r.error("registry.image_prefix",
              fmt::format("'{}' is not an image name prefix ('ghcr.io/org/binder-': registry host, "
                          "lower-case path)",
                          rc.image_prefix));
    }
    m.registry = rc;
    return;
  }
  rc.host = r.string(*reg, "host", "registry.host").value_or("");
  if (!rc.host.empty() && !is_hostname(rc.host)) {
    r.error("registry.host", fmt::format("'{}' is not a host name", rc.host));
  }
  rc.project = r.string(*reg, "project", "registry.project").value_or(rc.project);
  if (reg->contains("quota_gb") && !reg->at("quota_gb").is_null()) {
    const json& q = reg->at("quota_gb");
    if (!q.is_number_integer() || (q.get<std::int64_t>() < 1 && q.get<std::int64_t>() != -1)) {
      r.error("registry.quota_gb",
              fmt::format("expected a positive integer or -1, got {}", Reader::describe(q)));
    } else {
      rc.quota_gb = q.get<std::int64_t>();
    }
  }
  if (rc.kind == RegistryKind::harbor_local && has_s3) {
    r.error("registry.s3",
            "not used with registry.kind harbor-local (images stay on the local "
            "disk); use kind harbor-s3");
  } else if (const json* s3 = r.object(*reg, "s3", "registry.s3",
                                       {"endpoint", "region", "bucket", "access_key", "secret_key"})) {
    S3Config c;
    c.endpoint = r.required(*s3, "endpoint", "registry.s3.endpoint");
    if (!c.endpoint.empty() && !c.endpoint.starts_with("https://") && !c.endpoint.starts_with("http://")) {
      r.error("registry.s3.endpoint", fmt::format("'{}' is not an http(s) URL", c.endpoint));
    }
    c.region = r.string(*s3, "region", "registry.s3.region").value_or("us-east-1");
    c.bucket = r.required(*s3, "bucket", "registry.s3.bucket");
    c.access_key = r.required(*s3, "access_key", "registry.s3.access_key");
    c.secret_key = r.required(*s3, "secret_key", "registry.s3.secret_key");
    rc.s3 = c;
  } else if (rc.kind == RegistryKind::harbor_s3) {
    r.error("registry.s3",
            "required with registry.kind harbor-s3 (endpoint, bucket, access_key, "
            "secret_key)");
  }
  m.registry = rc;
}

}  // namespace binder::firstboot::metadata_detail
