// Shared helpers of the vendor API clients; see api.hpp.
#include "firstboot/clients/api.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace binder::firstboot::clients {

const char* to_string(Change c) {
  switch (c) {
    case Change::unchanged:
      return "unchanged";
    case Change::created:
      return "created";
    case Change::updated:
      return "updated";
  }
  return "?";
}

Result<Json> parse_json(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const std::exception& e) {
    return common::fail(Errc::network, "{}: malformed JSON: {}", what, e.what());
  }
}

Error http_error(int status, std::string_view what, std::string_view detail) {
  Errc code = Errc::network;
  if (status == 429 || status >= 500) {
    code = Errc::temporary;
  } else if (status == 401 || status == 403) {
    code = Errc::precondition;
  }
  std::string msg = fmt::format("{}: HTTP {}", what, status);
  if (!detail.empty()) {
    msg += fmt::format(": {}", detail.substr(0, 300));
  }
  return Error{code, msg, std::nullopt, {}};
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string basic_auth(std::string_view user, std::string_view password) {
  return "Basic " + base64(std::string(user) + ":" + std::string(password));
}

std::string random_alnum(size_t n) {
  static constexpr std::string_view k_chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  while (out.size() < n) {
    unsigned char buf[64];
    BINDER_ASSERT(RAND_bytes(buf, sizeof buf) == 1);
    for (unsigned char b : buf) {
      if (b < 248 && out.size() < n) {  // 248 = 4 * 62: uniform over the alphabet
        out += k_chars[b % 62];
      }
    }
  }
  return out;
}

}  // namespace binder::firstboot::clients
