// Test helpers for JWT/JWKS/OIDC tests: in-process RSA 2048 and EC P-256 keys, their
// JWKs, and token signing (RS256, ES256, HS256, none), all with OpenSSL.
//
// Test-only; aborts (via gtest ASSERT-free checks) on OpenSSL failures.
#pragma once

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <memory>
#include <string>

#include "core/base64.h"

namespace il::testing {

using Pkey = std::shared_ptr<EVP_PKEY>;

inline void Check(bool ok) {
  if (!ok) std::abort();
}

// Key generation is slow (RSA): each test binary makes one of each and shares it.
inline Pkey NewRsaKey() { return Pkey(EVP_RSA_gen(2048), EVP_PKEY_free); }
inline Pkey NewEcKey() { return Pkey(EVP_EC_gen("P-256"), EVP_PKEY_free); }
inline const Pkey& RsaKey() {
  static Pkey k = NewRsaKey();
  return k;
}
inline const Pkey& RsaKey2() {
  static Pkey k = NewRsaKey();
  return k;
}
inline const Pkey& EcKey() {
  static Pkey k = NewEcKey();
  return k;
}

inline std::string BnParam(EVP_PKEY* k, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  Check(EVP_PKEY_get_bn_param(k, name, &bn) == 1);
  std::string out(pad ? pad : BN_num_bytes(bn), '\0');
  if (pad) {
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), pad);
  } else {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  BN_free(bn);
  return out;
}

// The public JWK of a key.
inline boost::json::object Jwk(const Pkey& k, const std::string& kid) {
  boost::json::object o;
  if (EVP_PKEY_is_a(k.get(), "RSA")) {
    o["kty"] = "RSA";
    o["n"] = Base64UrlEncode(BnParam(k.get(), OSSL_PKEY_PARAM_RSA_N));
    o["e"] = Base64UrlEncode(BnParam(k.get(), OSSL_PKEY_PARAM_RSA_E));
    o["alg"] = "RS256";
  } else {
    o["kty"] = "EC";
    o["crv"] = "P-256";
    o["x"] = Base64UrlEncode(BnParam(k.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32));
    o["y"] = Base64UrlEncode(BnParam(k.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  }
  o["use"] = "sig";
  if (!kid.empty()) o["kid"] = kid;
  return o;
}

inline std::string Jwks(std::initializer_list<std::pair<Pkey, std::string>> keys) {
  boost::json::array a;
  for (const auto& [k, kid] : keys) a.push_back(Jwk(k, kid));
  boost::json::object doc;
  doc["keys"] = std::move(a);
  return boost::json::serialize(doc);
}

inline std::string PublicPem(const Pkey& k) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_PUBKEY(bio, k.get()) == 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

// Signs `input` with SHA-256: PKCS#1 v1.5 for RSA, raw r||s for EC (as JWS wants).
inline std::string SignSha256(const Pkey& k, const std::string& input) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  Check(EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, k.get()) == 1);
  size_t len = 0;
  Check(EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) == 1);
  std::string sig(len, '\0');
  Check(EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1);
  sig.resize(len);
  EVP_MD_CTX_free(md);
  if (EVP_PKEY_is_a(k.get(), "RSA")) return sig;
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  Check(es != nullptr);
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(es);
  return raw;
}

inline std::string Encode(const boost::json::object& o) {
  return Base64UrlEncode(boost::json::serialize(o));
}

// A token with the given header and claims, signed as header["alg"] says: RS256/ES256
// with `key`, HS256 with `hmac_secret`, anything else with an empty signature.
inline std::string MakeToken(const boost::json::object& header, const boost::json::object& claims,
                             const Pkey& key, const std::string& hmac_secret = "") {
  std::string input = Encode(header) + "." + Encode(claims);
  std::string alg(header.at("alg").as_string());
  std::string sig;
  if (alg == "RS256" || alg == "ES256") {
    sig = SignSha256(key, input);
  } else if (alg == "HS256") {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), hmac_secret.data(), static_cast<int>(hmac_secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    sig.assign(reinterpret_cast<char*>(mac), len);
  }
  return input + "." + Base64UrlEncode(sig);
}

}  // namespace il::testing
