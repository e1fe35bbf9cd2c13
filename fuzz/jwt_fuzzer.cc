// Fuzz target: what an unauthenticated client or an identity provider can send to the
// OIDC code (src/core/jwt.h, jwks.h): a bearer token and a JWKS document.
//
// Input: first line = token, rest = JWKS JSON.
// Properties: base64url is canonical (whatever decodes re-encodes to the same text);
// a parsed token's signing input is the token up to its last '.'; no parsed token is
// accepted by a key unless its alg is that key's algorithm.
#include <string>

#include "core/base64.h"
#include "core/jwks.h"
#include "core/jwt.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = il::fuzz::AsText(data, size);
  auto [token, jwks] = il::fuzz::SplitFirstLine(in);

  if (auto raw = il::Base64UrlDecode(token); raw.ok()) {
    FUZZ_CHECK(il::Base64UrlEncode(*raw) == token);
  }
  FUZZ_CHECK(*il::Base64UrlDecode(il::Base64UrlEncode(token)) == token);

  auto keys = il::ParseJwks(jwks);
  auto t = il::jwt::Parse(token);
  if (!t.ok()) return 0;
  FUZZ_CHECK(token.substr(0, t->signing_input.size()) == t->signing_input);
  FUZZ_CHECK(token.size() > t->signing_input.size() && token[t->signing_input.size()] == '.');
  (void)il::jwt::CheckClaims(*t, {"https://idp", "interlink", std::chrono::seconds(60)},
                             std::chrono::system_clock::now());
  (void)il::jwt::StringList(t->claims, "groups");
  (void)il::jwt::Printable(t->kid);
  if (!keys.ok()) return 0;
  for (const auto& k : *keys) {
    if (il::jwt::VerifySignature(*t, k.key).ok()) FUZZ_CHECK(t->alg == k.key.algorithm());
  }
  return 0;
}
