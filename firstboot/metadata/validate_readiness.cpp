// The `readiness` section of binder_member (member.hpp ReadinessConfig): the bounds of the
// readiness and in-rotation steps, the prime's /versions URL, the redirector's /active_hosts URL
// and the optional test launch.
#include <regex>

#include "firstboot/metadata/reader.hpp"

namespace binder::firstboot::metadata_detail {

namespace {

void read_minutes(Reader& r, const json& obj, const std::string& key, int& out) {
  if (!obj.contains(key) || obj.at(key).is_null())
    return;
  const json& v = obj.at(key);
  std::string path = "readiness." + key;
  if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 24 * 60) {
    r.error(path, fmt::format("expected whole minutes between 1 and 1440, got {}", Reader::describe(v)));
    return;
  }
  out = v.get<int>();
}

void read_url(Reader& r, const json& obj, const std::string& key, std::string& out) {
  auto v = r.string(obj, key, "readiness." + key);
  if (!v)
    return;
  if (!v->starts_with("https://")) {
    r.error("readiness." + key, fmt::format("'{}' is not an https:// URL", *v));
    return;
  }
  out = *v;
}

}  // namespace

void read_readiness(Reader& r, const json& root, Member& m) {
  const json* rd = r.object(root, "readiness", "readiness",
                            {"timeout_minutes", "prime_versions_url", "test_launch", "active_hosts_url",
                             "rotation_timeout_minutes"});
  if (rd == nullptr)
    return;
  read_minutes(r, *rd, "timeout_minutes", m.readiness.timeout_minutes);
  read_minutes(r, *rd, "rotation_timeout_minutes", m.readiness.rotation_timeout_minutes);
  read_url(r, *rd, "prime_versions_url", m.readiness.prime_versions_url);
  read_url(r, *rd, "active_hosts_url", m.readiness.active_hosts_url);
  if (auto spec = r.string(*rd, "test_launch", "readiness.test_launch")) {
    // BinderHub's /build/<provider>/<spec>: "gh/org/repo/ref", "gl/...", "git/<url>/<ref>", ...
    static const std::regex k_spec(R"([a-z]+/[^\s?#]+)");
    if (!spec->empty() && !std::regex_match(*spec, k_spec)) {
      r.error("readiness.test_launch",
              fmt::format("'{}' is not a BinderHub build spec like 'gh/binder-examples/requirements/HEAD'",
                          *spec));
    } else {
      m.readiness.test_launch = *spec;
    }
  }
}

}  // namespace binder::firstboot::metadata_detail
