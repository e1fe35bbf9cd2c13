#include "core/jwt.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <boost/json.hpp>
#include <cmath>

#include "core/base64.h"

namespace il::jwt {
namespace {

// Moduli outside this range are refused: small ones are weak, huge ones make every
// request expensive to verify.
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using BldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* k) { return {k, EVP_PKEY_free}; }

BnPtr Bn(std::string_view bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
}

Status OpensslError(std::string what) {
  ERR_clear_error();
  return InvalidArgument(std::move(what));
}

Result<std::shared_ptr<EVP_PKEY>> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpensslError(std::string("invalid ") + type + " public key");
  }
  auto key = Share(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return OpensslError(std::string(type) + " public key fails validation");
  }
  return key;
}

Status CheckRsaSize(EVP_PKEY* key) {
  int bits = EVP_PKEY_get_bits(key);
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return InvalidArgument("RSA key of " + std::to_string(bits) + " bits (need " +
                           std::to_string(kMinRsaBits) + " to " + std::to_string(kMaxRsaBits) +
                           ")");
  }
  return Status::Ok();
}

bool IsP256(EVP_PKEY* key) {
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) !=
      1) {
    return false;
  }
  std::string_view n(name, len);
  return n == "prime256v1" || n == "P-256" || n == "secp256r1";
}

Status Denied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }

// JWS ES256 carries r||s (32 bytes each); EVP wants a DER ECDSA-Sig-Value.
Result<std::string> EcRawToDer(std::string_view raw) {
  if (raw.size() != 64) return Denied("ES256 signature must be 64 bytes");
  SigPtr sig(ECDSA_SIG_new());
  BnPtr r = Bn(raw.substr(0, 32));
  BnPtr s = Bn(raw.substr(32));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return Internal("cannot build an ECDSA signature");
  }
  (void)r.release();  // owned by sig now
  (void)s.release();
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return Internal("cannot encode an ECDSA signature");
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

Result<boost::json::object> DecodeObject(std::string_view part, const char* what) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes.ok())
    return InvalidArgument(std::string("JWT ") + what + ": " + bytes.status().message());
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*bytes, ec);
  if (ec) return InvalidArgument(std::string("JWT ") + what + " is not valid JSON");
  if (!v.is_object()) return InvalidArgument(std::string("JWT ") + what + " is not a JSON object");
  return std::move(v.as_object());
}

// A NumericDate claim as seconds since the epoch; nullopt when absent.
Result<std::optional<double>> NumericDate(const boost::json::object& claims, const char* name) {
  const auto* v = claims.if_contains(name);
  if (!v) return std::optional<double>();
  double d = 0;
  if (v->is_int64()) {
    d = static_cast<double>(v->as_int64());
  } else if (v->is_uint64()) {
    d = static_cast<double>(v->as_uint64());
  } else if (v->is_double()) {
    d = v->as_double();
  } else {
    return Denied(std::string("claim '") + name + "' is not a number");
  }
  if (!std::isfinite(d)) return Denied(std::string("claim '") + name + "' is not finite");
  return std::optional<double>(d);
}

}  // namespace

Result<PublicKey> PublicKey::FromRsa(std::string_view n, std::string_view e) {
  if (n.empty() || e.empty()) return InvalidArgument("RSA key without n or e");
  BnPtr bn_n = Bn(n), bn_e = Bn(e);
  BldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return OpensslError("cannot build an RSA key");
  }
  IL_ASSIGN_OR_RETURN(auto key, FromData("RSA", bld.get()));
  IL_RETURN_IF_ERROR(CheckRsaSize(key.get()));
  return PublicKey(std::move(key), Type::kRsa);
}

Result<PublicKey> PublicKey::FromEcP256(std::string_view x, std::string_view y) {
  if (x.size() != 32 || y.size() != 32) {
    return InvalidArgument("P-256 coordinates must be 32 bytes each");
  }
  std::string point = "\x04";
  point.append(x).append(y);
  BldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpensslError("cannot build an EC key");
  }
  IL_ASSIGN_OR_RETURN(auto key, FromData("EC", bld.get()));
  return PublicKey(std::move(key), Type::kEcP256);
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!raw) return OpensslError("not a PEM public key");
  auto key = Share(raw);
  if (EVP_PKEY_is_a(raw, "RSA")) {
    IL_RETURN_IF_ERROR(CheckRsaSize(raw));
    return PublicKey(std::move(key), Type::kRsa);
  }
  if (EVP_PKEY_is_a(raw, "EC") && IsP256(raw)) return PublicKey(std::move(key), Type::kEcP256);
  return InvalidArgument("only RSA and EC P-256 public keys are supported");
}

Result<Jwt> Parse(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return InvalidArgument("JWT is too large");
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return InvalidArgument("not a JWT (expected 3 parts)");
  if (token.find('.', d2 + 1) != std::string_view::npos) {
    return InvalidArgument("not a signed JWT (encrypted tokens are not supported)");
  }
  Jwt t;
  IL_ASSIGN_OR_RETURN(t.header, DecodeObject(token.substr(0, d1), "header"));
  IL_ASSIGN_OR_RETURN(t.claims, DecodeObject(token.substr(d1 + 1, d2 - d1 - 1), "payload"));
  auto sig = Base64UrlDecode(token.substr(d2 + 1));
  if (!sig.ok()) return InvalidArgument("JWT signature: " + sig.status().message());
  t.signature = std::move(*sig);
  t.signing_input = std::string(token.substr(0, d2));
  const auto* alg = t.header.if_contains("alg");
  if (!alg || !alg->is_string()) return InvalidArgument("JWT header has no 'alg'");
  t.alg = std::string(alg->as_string());
  if (const auto* kid = t.header.if_contains("kid")) {
    if (!kid->is_string()) return InvalidArgument("JWT header 'kid' is not a string");
    t.kid = std::string(kid->as_string());
  }
  return t;
}

Status VerifySignature(const Jwt& token, const PublicKey& key) {
  if (token.alg != "RS256" && token.alg != "ES256") {
    return Denied("JWT algorithm '" + Printable(token.alg) +
                  "' is not accepted (only RS256 and ES256)");
  }
  if (token.alg != key.algorithm()) {
    return Denied("JWT algorithm " + token.alg + " does not match the key (" +
                  std::string(key.algorithm()) + ")");
  }
  if (token.header.contains("crit"))
    return Denied("JWT 'crit' header extensions are not supported");
  std::string der;
  std::string_view sig = token.signature;
  if (key.type() == PublicKey::Type::kEcP256) {
    IL_ASSIGN_OR_RETURN(der, EcRawToDer(token.signature));
    sig = der;
  } else if (static_cast<int>(sig.size()) != EVP_PKEY_get_size(key.get())) {
    return Denied("RS256 signature has the wrong length");
  }
  MdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    ERR_clear_error();
    return Internal("cannot initialise signature verification");
  }
  int rc =
      EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(token.signing_input.data()),
                       token.signing_input.size());
  ERR_clear_error();
  if (rc != 1) return Denied("JWT signature does not verify");
  return Status::Ok();
}

Status CheckClaims(const Jwt& token, const ClaimRequirements& req,
                   std::chrono::system_clock::time_point now_tp) {
  const auto& c = token.claims;
  const auto* iss = c.if_contains("iss");
  if (!iss || !iss->is_string() || iss->as_string() != req.issuer) {
    return Denied("JWT issuer is not " + req.issuer);
  }
  bool aud_ok = false;
  for (const auto& a : StringList(c, "aud")) aud_ok = aud_ok || a == req.audience;
  if (!aud_ok) return Denied("JWT audience does not include " + req.audience);

  const double now = std::chrono::duration<double>(now_tp.time_since_epoch()).count();
  const double skew = static_cast<double>(req.clock_skew.count());
  IL_ASSIGN_OR_RETURN(auto exp, NumericDate(c, "exp"));
  if (!exp) return Denied("JWT has no 'exp' claim");
  if (now >= *exp + skew) return Denied("JWT has expired");
  IL_ASSIGN_OR_RETURN(auto nbf, NumericDate(c, "nbf"));
  if (nbf && now + skew < *nbf) return Denied("JWT is not valid yet (nbf)");
  IL_ASSIGN_OR_RETURN(auto iat, NumericDate(c, "iat"));
  if (iat && now + skew < *iat) return Denied("JWT was issued in the future (iat)");
  return Status::Ok();
}

std::vector<std::string> StringList(const boost::json::object& claims, std::string_view name) {
  std::vector<std::string> out;
  const auto* v = claims.if_contains(name);
  if (!v) return out;
  if (v->is_string()) {
    out.emplace_back(v->as_string());
  } else if (v->is_array()) {
    for (const auto& e : v->as_array()) {
      if (e.is_string()) out.emplace_back(e.as_string());
    }
  }
  return out;
}

std::string Printable(std::string_view untrusted) {
  std::string out(untrusted.substr(0, 64));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  if (untrusted.size() > 64) out += "...";
  return out;
}

}  // namespace il::jwt
