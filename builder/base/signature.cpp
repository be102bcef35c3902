// verify_detached_signature: the three inputs go into a private temporary directory, gpgv reports
// on --status-fd, and only a VALIDSIG line (with the pinned fingerprint, if any) counts; gpgv's
// exit code alone is not trusted.
#include "base/signature.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

#include "common/exec.hpp"
#include "common/fs.hpp"

namespace binder::base {

namespace {

using common::Errc;
using common::fail;
namespace exec = common::exec;
namespace cfs = common::fs;

std::string normalize_fingerprint(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ') {
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

bool is_armored(std::string_view s) { return s.find("-----BEGIN PGP ") != std::string_view::npos; }

// The words of each "[GNUPG:] KEYWORD args..." line.
std::vector<std::vector<std::string>> status_lines(const std::string& out) {
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("[GNUPG:] ")) {
      continue;
    }
    std::istringstream words(line.substr(9));
    std::vector<std::string> w;
    for (std::string word; words >> word;) {
      w.push_back(word);
    }
    if (!w.empty()) {
      lines.push_back(std::move(w));
    }
  }
  return lines;
}

}  // namespace

Result<std::string> verify_detached_signature(const SignedData& in) {
  if (!exec::find_program("gpgv")) {
    return fail(Errc::precondition, "gpgv is not installed (package gpgv); it checks '{}'",
                in.signature_name);
  }
  auto check_failed = [&](std::string what) {
    return fail(Errc::checksum, "signature check of '{}' with '{}' failed: {}", in.data_name,
                in.signature_name, what);
  };
  if (in.keyring.empty()) {
    return check_failed(fmt::format("keyring '{}' is empty", in.keyring_name));
  }
  TRY_ASSIGN(cfs::TempDir dir, cfs::TempDir::create("binder-gpgv"));
  auto data = dir.path() / "data";
  auto sig = dir.path() / "data.sig";
  auto keyring = dir.path() / "keyring.gpg";
  auto home = dir.path() / "home";
  TRY(cfs::make_directories(home, 0700));
  TRY(cfs::write_file_atomic(data, in.data, 0600));
  TRY(cfs::write_file_atomic(sig, in.signature, 0600));
  if (is_armored(in.keyring)) {
    // gpgv reads binary keyrings only; an armored export is dearmored with gpg (no keys imported).
    auto armored = dir.path() / "keyring.asc";
    TRY(cfs::write_file_atomic(armored, in.keyring, 0600));
    auto r = exec::run({"gpg", "--batch", "--homedir", home.string(), "--dearmor", "--output",
                        keyring.string(), armored.string()},
                       {.timeout = std::chrono::seconds(60)});
    if (!r || r->exit_code != 0) {
      return check_failed(fmt::format("keyring '{}' is ASCII-armored and could not be dearmored{}",
                                      in.keyring_name, r ? ": " + r->err : ""));
    }
  } else {
    TRY(cfs::write_file_atomic(keyring, in.keyring, 0600));
  }
  TRY_ASSIGN(exec::Output r, exec::run({"gpgv", "--homedir", home.string(), "--status-fd", "1", "--keyring",
                                        keyring.string(), sig.string(), data.string()},
                                       {.timeout = std::chrono::seconds(120)}));
  std::string valid;        // primary fingerprint from VALIDSIG
  std::string missing_key;  // key id from NO_PUBKEY / ERRSIG
  bool bad = false;
  bool nodata = false;
  for (const auto& w : status_lines(r.out)) {
    if (w[0] == "VALIDSIG" && w.size() >= 2) {
      valid = w.size() >= 11 ? w[10] : w[1];
    } else if (w[0] == "BADSIG") {
      bad = true;
    } else if (w[0] == "ERRSIG" && w.size() >= 8) {
      missing_key = w[7];  // the signer's fingerprint (gpg 2.2.7+)
    } else if ((w[0] == "NO_PUBKEY" || w[0] == "ERRSIG") && w.size() >= 2 && missing_key.empty()) {
      missing_key = w[1];
    } else if (w[0] == "NODATA") {
      nodata = true;
    }
  }
  if (bad) {
    return check_failed(fmt::format("bad signature: '{}' was altered or '{}' is not its signature",
                                    in.data_name, in.signature_name));
  }
  if (r.exit_code != 0 || valid.empty()) {
    if (!missing_key.empty()) {
      return check_failed(
          fmt::format("signed by key {}, which is not in keyring '{}'", missing_key, in.keyring_name));
    }
    if (nodata) {
      return check_failed(fmt::format("'{}' is not an OpenPGP signature", in.signature_name));
    }
    std::string err = r.err;
    while (!err.empty() && std::isspace(static_cast<unsigned char>(err.back())))
      err.pop_back();
    return check_failed(fmt::format("gpgv exit {}: {}", r.exit_code, err));
  }
  if (!in.fingerprint.empty() && normalize_fingerprint(valid) != normalize_fingerprint(in.fingerprint)) {
    return check_failed(
        fmt::format("signed by key {}, expected {}", valid, normalize_fingerprint(in.fingerprint)));
  }
  return valid;
}

}  // namespace binder::base
