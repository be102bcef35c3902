// Step host:ssh-keys: the operators' public keys (the central team key, spec §1 step 2) appended
// to the user's authorized_keys. Existing lines are kept as they are; a key counts as present
// when its type and key material match, whatever its comment.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs.hpp"
#include "firstboot/host/files.hpp"
#include "firstboot/host/host_steps.hpp"

namespace binder::firstboot::host {
namespace {

struct Account {
  std::string home;
  uid_t uid = 0;
  gid_t gid = 0;
};

// From <root>/etc/passwd; root defaults to /root when the file is missing.
Result<Account> lookup(const Env& env, const std::string& user) {
  TRY_ASSIGN(auto passwd, common::fs::read_file_if_exists(env.path("/etc/passwd")));
  if (passwd) {
    for (const auto& line : split_lines(*passwd)) {
      // name:x:uid:gid:gecos:home:shell
      std::vector<std::string> f;
      std::size_t pos = 0;
      while (true) {
        auto c = line.find(':', pos);
        f.push_back(line.substr(pos, c == std::string::npos ? std::string::npos : c - pos));
        if (c == std::string::npos) {
          break;
        }
        pos = c + 1;
      }
      if (f.size() >= 6 && f[0] == user) {
        return Account{f[5], static_cast<uid_t>(std::stoul(f[2])), static_cast<gid_t>(std::stoul(f[3]))};
      }
    }
  }
  if (user == "root") {
    return Account{"/root", 0, 0};
  }
  return common::fail(Errc::invalid_config, "operators.user '{}' does not exist on this system", user);
}

// "ssh-ed25519 AAAA..." without options or comment.
std::string key_identity(std::string_view line) {
  std::string l = trim(line);
  if (l.empty() || l[0] == '#') {
    return {};
  }
  // Skip an options prefix: the key type is the first field that looks like one.
  std::vector<std::string> fields;
  std::size_t pos = 0;
  while (pos < l.size()) {
    auto sp = l.find(' ', pos);
    fields.push_back(l.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos));
    if (sp == std::string::npos) {
      break;
    }
    pos = l.find_first_not_of(' ', sp);
  }
  for (std::size_t i = 0; i + 1 < fields.size(); ++i) {
    const auto& t = fields[i];
    if (t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-")) {
      return t + " " + fields[i + 1];
    }
  }
  return {};
}

class SshKeysStep : public Step {
 public:
  std::string_view id() const override { return "host:ssh-keys"; }
  std::string describe(const Env& env) const override {
    return fmt::format("authorize {} operator key(s) for '{}'",
                       env.member.operators.ssh_authorized_keys.size(), env.member.operators.user);
  }
  std::string fingerprint(const Env& env) const override {
    auto f = env.member.operators.ssh_authorized_keys;
    f.push_back(env.member.operators.user);
    return fingerprint_of(f);
  }
  Result<Outcome> apply(Env& env) override {
    const auto& keys = env.member.operators.ssh_authorized_keys;
    if (keys.empty()) {
      return Outcome::unchanged;
    }
    TRY_ASSIGN(Account acct, lookup(env, env.member.operators.user));
    std::string dir = acct.home + "/.ssh";
    std::string file = dir + "/authorized_keys";
    TRY_ASSIGN(auto cur, common::fs::read_file_if_exists(env.path(file)));
    std::vector<std::string> lines = cur ? split_lines(*cur) : std::vector<std::string>{};
    std::vector<std::string> have;
    for (const auto& l : lines) {
      have.push_back(key_identity(l));
    }
    bool added = false;
    for (const auto& k : keys) {
      auto ident = key_identity(k);
      if (std::find(have.begin(), have.end(), ident) == have.end()) {
        lines.push_back(trim(k));
        have.push_back(ident);
        added = true;
      }
    }
    auto dpath = env.path(dir);
    TRY(common::fs::make_directories(dpath, 0700));
    Outcome out = Outcome::unchanged;
    if (added || !cur || cur->empty() || cur->back() != '\n') {
      TRY(common::fs::write_file_atomic(env.path(file), join_lines(lines), 0600));
      out = Outcome::changed;
    }
    // Ownership and modes (sshd's StrictModes): the user's, 0700/0600.
    struct stat st {};
    if (::stat(dpath.c_str(), &st) == 0 && (st.st_uid != acct.uid || (st.st_mode & 07777) != 0700)) {
      if (::chown(dpath.c_str(), acct.uid, acct.gid) != 0 || ::chmod(dpath.c_str(), 0700) != 0) {
        return common::fail(Errc::io, "setting owner of '{}'", dpath.string());
      }
      out = Outcome::changed;
    }
    auto fpath = env.path(file);
    if (::stat(fpath.c_str(), &st) == 0 && st.st_uid != acct.uid) {
      if (::chown(fpath.c_str(), acct.uid, acct.gid) != 0) {
        return common::fail(Errc::io, "setting owner of '{}'", fpath.string());
      }
      out = Outcome::changed;
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Step> make_ssh_keys_step() { return std::make_unique<SshKeysStep>(); }

}  // namespace binder::firstboot::host
