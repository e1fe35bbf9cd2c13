// JWT: parsing and checking of JSON Web Tokens in the JWS compact form
// (header.payload.signature, RFC 7515/7519), for bearer tokens issued by an OIDC
// identity provider.
//
// Only two signature algorithms are accepted: RS256 (RSA PKCS#1 v1.5 with SHA-256,
// keys of at least 2048 bits) and ES256 (ECDSA P-256 with SHA-256, the signature being
// the raw 64-byte r||s of JWS). The algorithm a token names must match the type of the
// key it is checked with, so "alg":"none", HS256 (notably HS256 keyed with the public
// key) and every other algorithm are refused, as are tokens with a "crit" header
// (we implement no extensions). Base64url is decoded strictly.
//
// Every function returns a Status; nothing throws.
//
// Thread-safety: PublicKey is immutable and may be shared between threads; the
// functions are pure.
#pragma once

#include <openssl/types.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace il::jwt {

// A verification key (RSA or EC P-256).
class PublicKey {
 public:
  enum class Type { kRsa, kEcP256 };

  // From the big-endian bytes of a JWK's n and e. Moduli under 2048 bits are refused.
  static Result<PublicKey> FromRsa(std::string_view n, std::string_view e);
  // From the 32-byte big-endian coordinates of a JWK's x and y; the point must lie on
  // the curve.
  static Result<PublicKey> FromEcP256(std::string_view x, std::string_view y);
  // From a PEM "PUBLIC KEY" (SubjectPublicKeyInfo); RSA or EC P-256 only.
  static Result<PublicKey> FromPem(std::string_view pem);

  Type type() const { return type_; }
  EVP_PKEY* get() const { return key_.get(); }
  // The algorithm this key verifies: "RS256" or "ES256".
  std::string_view algorithm() const { return type_ == Type::kRsa ? "RS256" : "ES256"; }

 private:
  PublicKey(std::shared_ptr<EVP_PKEY> key, Type type) : key_(std::move(key)), type_(type) {}
  std::shared_ptr<EVP_PKEY> key_;
  Type type_;
};

// A token split and decoded, not yet verified.
struct Jwt {
  boost::json::object header;
  boost::json::object claims;
  std::string alg;            // header "alg"
  std::string kid;            // header "kid", empty when absent
  std::string signing_input;  // "<header>.<payload>" as sent: what the signature covers
  std::string signature;      // decoded signature bytes
};

// Longest token accepted (a JWT in a header is small; this stops a parser being fed MBs).
constexpr size_t kMaxTokenBytes = size_t{16} * 1024;

// Splits, decodes and parses. Malformed input -> kInvalidArgument naming the part.
Result<Jwt> Parse(std::string_view token);

// Checks the signature with `key`. The token's alg must be the key's algorithm
// (RS256 <-> RSA, ES256 <-> EC P-256); anything else -> kPermissionDenied.
Status VerifySignature(const Jwt& token, const PublicKey& key);

// What the claims must satisfy.
struct ClaimRequirements {
  std::string issuer;    // "iss" must equal it exactly
  std::string audience;  // "aud" (a string or a list) must contain it
  // Tolerance for clocks that disagree: exp is honoured until exp + skew, nbf and iat
  // from nbf - skew and iat - skew.
  std::chrono::seconds clock_skew{60};
};

// Checks iss, aud, exp (required), nbf and iat (optional) at time `now`. A violation ->
// kPermissionDenied with a message saying which claim failed (never the token itself).
Status CheckClaims(const Jwt& token, const ClaimRequirements& req,
                   std::chrono::system_clock::time_point now);

// Reads a claim as a list of strings: a string gives one element, an array its string
// elements; absent or another type gives an empty list.
std::vector<std::string> StringList(const boost::json::object& claims, std::string_view name);

// An untrusted header value (alg, kid) made fit for a log line or an error message:
// at most 64 characters, anything but printable ASCII replaced by '?'.
std::string Printable(std::string_view untrusted);

}  // namespace il::jwt
