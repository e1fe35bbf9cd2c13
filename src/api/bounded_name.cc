#include "api/bounded_name.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace il::api {
namespace {

bool Trailing(char c) { return c == '-' || c == '.' || c == '_'; }

// The first `keep` characters of `s` without trailing separators, then "-" + hash.
std::string Cut(std::string_view s, size_t keep, const std::string& hash) {
  std::string out(s.substr(0, keep));
  while (!out.empty() && Trailing(out.back())) out.pop_back();
  if (out.empty()) return hash;  // hex digits: valid on every backend
  return out + "-" + hash;
}

}  // namespace

std::string NameHash(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr) != 1 ||
      size_t{len} * 2 < kNameHashLength) {
    std::abort();  // SHA-256 is always available in OpenSSL 3; failing here is a broken build
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; out.size() < kNameHashLength; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

std::string BoundedName(std::string_view s, size_t max) {
  if (max < kMinBoundedName) std::abort();
  if (s.size() <= max) return std::string(s);
  return Cut(s, max - kNameHashLength - 1, NameHash(s));
}

std::string BoundedName(std::string_view head, std::string_view tail, size_t max) {
  std::string whole = std::string(head) + std::string(tail);
  if (whole.size() <= max) return whole;
  if (tail.size() + kMinBoundedName > max) return BoundedName(whole, max);
  return Cut(head, max - tail.size() - kNameHashLength - 1, NameHash(whole)) + std::string(tail);
}

}  // namespace il::api
