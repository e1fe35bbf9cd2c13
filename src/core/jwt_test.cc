#include "core/jwt.h"

#include <gtest/gtest.h>

#include "core/base64.h"
#include "core/jwt_test_util.h"

namespace il::jwt {
namespace {

using il::testing::EcKey;
using il::testing::MakeToken;
using il::testing::RsaKey;
using il::testing::RsaKey2;

constexpr int64_t kNow = 1'700'000'000;
const auto kNowTp = std::chrono::system_clock::time_point(std::chrono::seconds(kNow));

boost::json::object Claims() {
  return {{"iss", "https://idp.example"},
          {"aud", "interlink"},
          {"sub", "alice"},
          {"iat", kNow - 10},
          {"exp", kNow + 300}};
}

PublicKey Pub(const il::testing::Pkey& k) {
  auto r = PublicKey::FromPem(il::testing::PublicPem(k));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

const ClaimRequirements kReq{"https://idp.example", "interlink", std::chrono::seconds(60)};

TEST(Jwt, Rs256TokenVerifiesAndItsClaimsPass) {
  auto token = MakeToken({{"alg", "RS256"}, {"kid", "k1"}, {"typ", "JWT"}}, Claims(), RsaKey());
  auto t = Parse(token);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->alg, "RS256");
  EXPECT_EQ(t->kid, "k1");
  EXPECT_TRUE(VerifySignature(*t, Pub(RsaKey())).ok());
  EXPECT_TRUE(CheckClaims(*t, kReq, kNowTp).ok());
}

TEST(Jwt, Es256TokenWithRawSignatureVerifies) {
  auto token = MakeToken({{"alg", "ES256"}}, Claims(), EcKey());
  auto t = Parse(token);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->signature.size(), 64u);
  EXPECT_TRUE(VerifySignature(*t, Pub(EcKey())).ok());
}

TEST(Jwt, SignatureFromAnotherKeyIsRefused) {
  auto t = Parse(MakeToken({{"alg", "RS256"}}, Claims(), RsaKey2()));
  ASSERT_TRUE(t.ok());
  auto st = VerifySignature(*t, Pub(RsaKey()));
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
}

TEST(Jwt, TamperedPayloadIsRefused) {
  std::string token = MakeToken({{"alg", "RS256"}}, Claims(), RsaKey());
  auto d1 = token.find('.'), d2 = token.rfind('.');
  auto forged = Claims();
  forged["sub"] = "admin";
  std::string tampered = token.substr(0, d1 + 1) + il::testing::Encode(forged) + token.substr(d2);
  auto t = Parse(tampered);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(VerifySignature(*t, Pub(RsaKey())).code(), StatusCode::kPermissionDenied);
  // The same for ES256.
  std::string ec = MakeToken({{"alg", "ES256"}}, Claims(), EcKey());
  std::string ec_tampered =
      ec.substr(0, ec.find('.') + 1) + il::testing::Encode(forged) + ec.substr(ec.rfind('.'));
  EXPECT_EQ(VerifySignature(*Parse(ec_tampered), Pub(EcKey())).code(),
            StatusCode::kPermissionDenied);
}

TEST(Jwt, AlgNoneIsRefused) {
  auto t = Parse(MakeToken({{"alg", "none"}}, Claims(), RsaKey()));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->signature.empty());
  auto st = VerifySignature(*t, Pub(RsaKey()));
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("'none'"), std::string::npos) << st.message();
}

TEST(Jwt, Hs256SignedWithThePublicKeyIsRefused) {
  // The classic key-confusion attack: HMAC keyed with the (public) RSA key PEM.
  std::string pem = il::testing::PublicPem(RsaKey());
  auto t = Parse(MakeToken({{"alg", "HS256"}}, Claims(), RsaKey(), pem));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(VerifySignature(*t, Pub(RsaKey())).code(), StatusCode::kPermissionDenied);
}

TEST(Jwt, AlgorithmMustMatchTheKeyType) {
  auto rs = Parse(MakeToken({{"alg", "RS256"}}, Claims(), RsaKey()));
  EXPECT_EQ(VerifySignature(*rs, Pub(EcKey())).code(), StatusCode::kPermissionDenied);
  auto es = Parse(MakeToken({{"alg", "ES256"}}, Claims(), EcKey()));
  EXPECT_EQ(VerifySignature(*es, Pub(RsaKey())).code(), StatusCode::kPermissionDenied);
  for (const char* alg : {"RS384", "PS256", "ES384", "EdDSA", "HS512", ""}) {
    auto t = Parse(MakeToken({{"alg", alg}}, Claims(), RsaKey()));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(VerifySignature(*t, Pub(RsaKey())).code(), StatusCode::kPermissionDenied) << alg;
  }
}

TEST(Jwt, UntrustedHeaderValuesAreMadePrintableInMessages) {
  auto t = Parse(MakeToken({{"alg", "x\nFAKE LOG LINE"}}, Claims(), RsaKey()));
  ASSERT_TRUE(t.ok());
  auto st = VerifySignature(*t, Pub(RsaKey()));
  EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("x?FAKE LOG LINE"), std::string::npos) << st.message();
  EXPECT_EQ(Printable(std::string(100, 'a')), std::string(64, 'a') + "...");
}

TEST(Jwt, CritHeaderIsRefused) {
  auto t =
      Parse(MakeToken({{"alg", "RS256"}, {"crit", boost::json::array{"b64"}}}, Claims(), RsaKey()));
  EXPECT_EQ(VerifySignature(*t, Pub(RsaKey())).code(), StatusCode::kPermissionDenied);
}

TEST(Jwt, MalformedTokensAreInvalidArgument) {
  std::string good = MakeToken({{"alg", "RS256"}}, Claims(), RsaKey());
  auto header = good.substr(0, good.find('.'));
  for (const std::string& bad :
       {std::string(""), std::string("abc"), std::string("a.b"),
        good + ".x.y",  // five parts: JWE
        "!!!." + good.substr(good.find('.') + 1), header + "=." + good.substr(good.find('.') + 1),
        Base64UrlEncode("[1]") + "." + good.substr(good.find('.') + 1),
        Base64UrlEncode("{nope") + "." + good.substr(good.find('.') + 1),
        Base64UrlEncode("{\"alg\":5}") + "." + good.substr(good.find('.') + 1),
        good.substr(0, good.rfind('.')) + ".a+b/", std::string(kMaxTokenBytes + 1, 'a')}) {
    auto t = Parse(bad);
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << bad.substr(0, 60);
  }
}

TEST(Jwt, ExpiredTokenIsRefusedAfterTheSkew) {
  auto c = Claims();
  c["exp"] = kNow - 30;  // within the 60 s skew: still fine
  EXPECT_TRUE(CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp).ok());
  c["exp"] = kNow - 61;
  auto st = CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("expired"), std::string::npos);
  ClaimRequirements strict = kReq;
  strict.clock_skew = std::chrono::seconds(0);
  c["exp"] = kNow - 1;
  EXPECT_FALSE(
      CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), strict, kNowTp).ok());
}

TEST(Jwt, TokenWithoutExpIsRefused) {
  auto c = Claims();
  c.erase("exp");
  EXPECT_FALSE(CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp).ok());
  c["exp"] = "tomorrow";
  EXPECT_FALSE(CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp).ok());
}

TEST(Jwt, NotYetValidTokenIsRefused) {
  auto c = Claims();
  c["nbf"] = kNow + 120;
  auto st = CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("nbf"), std::string::npos);
  c["nbf"] = kNow + 30;  // within the skew
  EXPECT_TRUE(CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp).ok());
  c.erase("nbf");
  c["iat"] = kNow + 3600;  // issued in the future
  EXPECT_FALSE(CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp).ok());
}

TEST(Jwt, WrongIssuerOrAudienceIsRefused) {
  auto c = Claims();
  c["iss"] = "https://evil.example";
  EXPECT_EQ(CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp).code(),
            StatusCode::kPermissionDenied);
  c = Claims();
  c["aud"] = "someone-else";
  EXPECT_FALSE(CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp).ok());
  c["aud"] = boost::json::array{"a", "interlink", "b"};
  EXPECT_TRUE(CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp).ok());
  c["aud"] = boost::json::array{"a", "b"};
  EXPECT_FALSE(CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp).ok());
  c.erase("aud");
  EXPECT_FALSE(CheckClaims(*Parse(MakeToken({{"alg", "RS256"}}, c, RsaKey())), kReq, kNowTp).ok());
}

TEST(Jwt, PublicKeysFromComponentsAreValidated) {
  auto n = il::testing::BnParam(RsaKey().get(), "n");
  auto e = il::testing::BnParam(RsaKey().get(), "e");
  auto rsa = PublicKey::FromRsa(n, e);
  ASSERT_TRUE(rsa.ok()) << rsa.status().ToString();
  EXPECT_EQ(rsa->type(), PublicKey::Type::kRsa);
  EXPECT_TRUE(
      VerifySignature(*Parse(MakeToken({{"alg", "RS256"}}, Claims(), RsaKey())), *rsa).ok());
  EXPECT_FALSE(PublicKey::FromRsa(n.substr(0, 128), e).ok());  // 1024 bits: too weak
  EXPECT_FALSE(PublicKey::FromRsa("", e).ok());

  auto x = il::testing::BnParam(EcKey().get(), "qx", 32);
  auto y = il::testing::BnParam(EcKey().get(), "qy", 32);
  auto ec = PublicKey::FromEcP256(x, y);
  ASSERT_TRUE(ec.ok()) << ec.status().ToString();
  EXPECT_TRUE(VerifySignature(*Parse(MakeToken({{"alg", "ES256"}}, Claims(), EcKey())), *ec).ok());
  std::string off_curve = y;
  off_curve[31] ^= 1;
  EXPECT_FALSE(PublicKey::FromEcP256(x, off_curve).ok());
  EXPECT_FALSE(PublicKey::FromEcP256(x.substr(1), y).ok());
}

}  // namespace
}  // namespace il::jwt
