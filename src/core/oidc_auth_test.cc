#include "core/oidc_auth.h"

#include <gtest/gtest.h>

#include "core/jwt_test_util.h"
#include "testing/fake_clock.h"

namespace il {
namespace {

using il::testing::EcKey;
using il::testing::MakeToken;
using il::testing::RsaKey;
using il::testing::RsaKey2;
using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000;

class FakeSource : public JwksSource {
 public:
  explicit FakeSource(std::string* doc, bool* up, int* fetches)
      : doc_(doc), up_(up), fetches_(fetches) {}
  Result<std::string> Fetch() override {
    ++*fetches_;
    if (!*up_) return Unavailable("connection refused");
    return *doc_;
  }
  bool Changed() override { return false; }
  std::string Describe() const override { return "fake JWKS"; }

 private:
  std::string* doc_;
  bool* up_;
  int* fetches_;
};

class OidcAuthTest : public ::testing::Test {
 protected:
  OidcAuthTest() {
    config_.issuer = "https://idp.example";
    config_.audience = "interlink";
    jwks_ = il::testing::Jwks({{RsaKey(), "rsa1"}, {EcKey(), "ec1"}});
  }

  OidcAuthenticator& Auth() {
    if (!auth_) {
      auto keys =
          std::make_shared<JwksKeySet>(std::make_unique<FakeSource>(&jwks_, &idp_up_, &fetches_),
                                       JwksOptions{10s, 3600s}, clock_);
      auth_ = std::make_unique<OidcAuthenticator>(config_, keys, clock_);
    }
    return *auth_;
  }

  static boost::json::object Claims() {
    return {{"iss", "https://idp.example"},
            {"aud", "interlink"},
            {"sub", "alice"},
            {"email", "alice@example.org"},
            {"groups", boost::json::array{"hpc-users", "staff"}},
            {"iat", kNow - 5},
            {"exp", kNow + 300}};
  }
  static std::string Rs(const boost::json::object& claims, const std::string& kid = "rsa1",
                        const il::testing::Pkey& key = RsaKey()) {
    return MakeToken({{"alg", "RS256"}, {"kid", kid}}, claims, key);
  }

  Result<http::Identity> Call(const std::string& token, const std::string& query_name = "") {
    http::Request r;
    r.peer = "10.0.0.5:40000";
    if (!token.empty()) r.headers.Set("Authorization", "Bearer " + token);
    if (!query_name.empty()) r.query[query_name] = token;
    return Auth().Authenticate(r);
  }

  OidcConfig config_;
  std::string jwks_;
  bool idp_up_ = true;
  int fetches_ = 0;
  std::shared_ptr<testing::FakeClock> clock_ =
      std::make_shared<testing::FakeClock>(Clock::WallTimePoint(std::chrono::seconds(kNow)));
  std::unique_ptr<OidcAuthenticator> auth_;
};

TEST_F(OidcAuthTest, ValidRs256AndEs256TokensGiveTheSubjectAndGroups) {
  auto id = Call(Rs(Claims()));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->user, "alice");
  EXPECT_EQ(id->method, "oidc");
  EXPECT_EQ(id->groups, (std::vector<std::string>{"hpc-users", "staff"}));
  auto ec = Call(MakeToken({{"alg", "ES256"}, {"kid", "ec1"}}, Claims(), EcKey()));
  EXPECT_TRUE(ec.ok()) << ec.status().ToString();
  // A token without kid is checked against every key of its algorithm.
  EXPECT_TRUE(Call(MakeToken({{"alg", "RS256"}}, Claims(), RsaKey())).ok());
}

TEST_F(OidcAuthTest, NoBearerIsUnauthenticatedSoTheNextAuthenticatorMayTry) {
  EXPECT_EQ(Call("").status().code(), StatusCode::kUnauthenticated);
  http::Request basic;
  basic.headers.Set("Authorization", "Basic YWxpY2U6cHc=");
  EXPECT_EQ(Auth().Authenticate(basic).status().code(), StatusCode::kUnauthenticated);
  // An opaque token (the VKTokenFile kind) is not ours either.
  EXPECT_EQ(Call("0123456789abcdef").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(fetches_, 0);  // and none of that touched the IdP
}

TEST_F(OidcAuthTest, ExpiredAndNotYetValidTokensAreRefused) {
  auto c = Claims();
  c["exp"] = kNow - 61;
  auto st = Call(Rs(c)).status();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("expired"), std::string::npos);
  c = Claims();
  c["nbf"] = kNow + 61;
  EXPECT_EQ(Call(Rs(c)).status().code(), StatusCode::kPermissionDenied);
  // The skew is configurable.
  config_.clock_skew_seconds = 120;
  auth_.reset();
  EXPECT_TRUE(Call(Rs(c)).ok());
}

TEST_F(OidcAuthTest, WrongAudienceOrIssuerIsRefused) {
  auto c = Claims();
  c["aud"] = "another-service";
  EXPECT_EQ(Call(Rs(c)).status().code(), StatusCode::kPermissionDenied);
  c = Claims();
  c["aud"] = boost::json::array{"another-service", "interlink"};
  EXPECT_TRUE(Call(Rs(c)).ok());
  c = Claims();
  c["iss"] = "https://idp.example/";  // exact match only
  EXPECT_EQ(Call(Rs(c)).status().code(), StatusCode::kPermissionDenied);
}

TEST_F(OidcAuthTest, UnknownKidIsRefusedUntilTheJwksHasIt) {
  EXPECT_TRUE(Call(Rs(Claims())).ok());
  auto rotated = Rs(Claims(), "rsa2", RsaKey2());
  auto st = Call(rotated).status();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("unknown key"), std::string::npos) << st.message();
  // The IdP publishes the new key; after the refresh interval the token is accepted.
  jwks_ = il::testing::Jwks({{RsaKey(), "rsa1"}, {RsaKey2(), "rsa2"}});
  clock_->Advance(11s);
  auto id = Call(rotated);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  // A key that is named by kid but does not match the signature is refused.
  EXPECT_EQ(Call(Rs(Claims(), "rsa2", RsaKey())).status().code(), StatusCode::kPermissionDenied);
}

TEST_F(OidcAuthTest, AlgNoneHs256AndTamperedTokensAreRefused) {
  EXPECT_EQ(Call(MakeToken({{"alg", "none"}, {"kid", "rsa1"}}, Claims(), RsaKey())).status().code(),
            StatusCode::kPermissionDenied);
  std::string pem = il::testing::PublicPem(RsaKey());
  EXPECT_EQ(
      Call(MakeToken({{"alg", "HS256"}, {"kid", "rsa1"}}, Claims(), RsaKey(), pem)).status().code(),
      StatusCode::kPermissionDenied);
  std::string good = Rs(Claims());
  auto forged = Claims();
  forged["sub"] = "root";
  std::string tampered = good.substr(0, good.find('.') + 1) + il::testing::Encode(forged) +
                         good.substr(good.rfind('.'));
  EXPECT_EQ(Call(tampered).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Call("eyJhbGciOiJSUzI1NiJ9.e30.!!!").status().code(), StatusCode::kPermissionDenied);
}

TEST_F(OidcAuthTest, TokenInTheQueryStringIsRefusedAndNeverUsed) {
  std::string good = Rs(Claims());
  for (const char* name : {"access_token", "token"}) {
    http::Request r;
    r.query[name] = good;
    auto st = Auth().Authenticate(r).status();
    EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << name;
    EXPECT_NE(st.message().find("Authorization"), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find(good), std::string::npos);  // the token is not echoed
    // Not even alongside a valid header.
    r.headers.Set("Authorization", "Bearer " + good);
    EXPECT_EQ(Auth().Authenticate(r).status().code(), StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(fetches_, 0);
}

TEST_F(OidcAuthTest, AllowListsMatchSubjectGroupOrVerifiedEmail) {
  config_.allowed_subjects = {"bob"};
  config_.allowed_groups = {"admins"};
  config_.allowed_emails = {"carol@example.org"};
  auto c = Claims();
  EXPECT_EQ(Call(Rs(c)).status().code(), StatusCode::kPermissionDenied);  // alice: none match
  c["sub"] = "bob";
  EXPECT_TRUE(Call(Rs(c)).ok());
  c = Claims();
  c["groups"] = boost::json::array{"staff", "admins"};
  EXPECT_TRUE(Call(Rs(c)).ok());
  c = Claims();
  c["email"] = "carol@example.org";
  EXPECT_TRUE(Call(Rs(c)).ok());
  c["email_verified"] = false;  // an unverified address proves nothing
  EXPECT_EQ(Call(Rs(c)).status().code(), StatusCode::kPermissionDenied);
}

TEST_F(OidcAuthTest, ClaimNamesAreConfigurable) {
  config_.subject_claim = "preferred_username";
  config_.groups_claim = "roles";
  config_.allowed_groups = {"interlink-admin"};
  auto c = Claims();
  c["preferred_username"] = "alice.smith";
  c["roles"] = "interlink-admin";  // a single string counts as a list of one
  auto id = Call(Rs(c));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->user, "alice.smith");
  c.erase("preferred_username");
  EXPECT_EQ(Call(Rs(c)).status().code(), StatusCode::kPermissionDenied);
}

TEST_F(OidcAuthTest, UnreachableJwksIsUnavailable) {
  idp_up_ = false;
  auto st = Call(Rs(Claims())).status();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  // AnyOf keeps the 503 rather than turning it into 401.
  std::vector<std::unique_ptr<Authenticator>> list;
  list.push_back(std::make_unique<OidcAuthenticator>(
      config_,
      std::make_shared<JwksKeySet>(std::make_unique<FakeSource>(&jwks_, &idp_up_, &fetches_),
                                   JwksOptions{}, clock_),
      clock_));
  AnyOfAuthenticator any(std::move(list));
  http::Request r;
  r.headers.Set("Authorization", "Bearer " + Rs(Claims()));
  EXPECT_EQ(any.Authenticate(r).status().code(), StatusCode::kUnavailable);
}

TEST(OidcFactory, BuildsFromConfigAndRefusesPlainHttpJwksUrls) {
  OidcConfig c;
  c.issuer = "https://idp.example";
  c.audience = "interlink";
  c.jwks_file = "/nonexistent/jwks.json";
  auto a = MakeOidcAuthenticator(c);
  ASSERT_TRUE(a.ok()) << a.status().ToString();  // keys are read on first use
  EXPECT_NE((*a)->Describe().find("https://idp.example"), std::string::npos);
  http::Request r;
  r.headers.Set("Authorization",
                "Bearer " + MakeToken({{"alg", "RS256"}}, {{"sub", "x"}}, RsaKey()));
  EXPECT_EQ((*a)->Authenticate(r).status().code(), StatusCode::kUnavailable);
  c.jwks_file.clear();
  c.jwks_url = "http://idp.example/jwks";
  EXPECT_EQ(MakeOidcAuthenticator(c).status().code(), StatusCode::kInvalidArgument);
  c.jwks_url = "https://idp.example/jwks";
  EXPECT_TRUE(MakeOidcAuthenticator(c).ok());
  EXPECT_FALSE(MakeOidcAuthenticator(OidcConfig{}).ok());
}

// --- proxy headers ---

http::Request ProxyRequest(const std::string& peer, const std::string& user,
                           const std::string& email = "", const std::string& groups = "") {
  http::Request r;
  r.peer = peer;
  if (!user.empty()) r.headers.Set("X-Forwarded-User", user);
  if (!email.empty()) r.headers.Set("X-Forwarded-Email", email);
  if (!groups.empty()) r.headers.Set("X-Forwarded-Groups", groups);
  return r;
}

TEST(ProxyHeaderAuth, TrustsHeadersOnlyFromConfiguredProxies) {
  auto a = MakeProxyHeaderAuthenticator({"127.0.0.1", "10.1.0.0/16", "fd00::/8", "unix"}, {});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto id = (*a)->Authenticate(ProxyRequest("127.0.0.1:5000", "alice", "", "hpc, staff"));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->user, "alice");
  EXPECT_EQ(id->method, "proxy");
  EXPECT_EQ(id->groups, (std::vector<std::string>{"hpc", "staff"}));
  EXPECT_TRUE((*a)->Authenticate(ProxyRequest("10.1.200.3:5000", "alice")).ok());
  EXPECT_TRUE((*a)->Authenticate(ProxyRequest("fd12::1:5000", "alice")).ok());
  EXPECT_TRUE((*a)->Authenticate(ProxyRequest("::ffff:10.1.0.9:5000", "alice")).ok());
  EXPECT_TRUE((*a)->Authenticate(ProxyRequest("unix", "alice")).ok());
  // Email alone names the user.
  auto by_mail = (*a)->Authenticate(ProxyRequest("127.0.0.1:1", "", "bob@example.org"));
  ASSERT_TRUE(by_mail.ok());
  EXPECT_EQ(by_mail->user, "bob@example.org");

  // From anyone else the headers are ignored: no credential at all.
  for (const char* peer : {"10.2.0.1:5000", "127.0.0.2:5000", "::1:5000", "[fe80::1]:80"}) {
    EXPECT_EQ((*a)->Authenticate(ProxyRequest(peer, "alice")).status().code(),
              StatusCode::kUnauthenticated)
        << peer;
  }
  EXPECT_EQ((*a)->Authenticate(ProxyRequest("127.0.0.1:1", "")).status().code(),
            StatusCode::kUnauthenticated);
}

TEST(ProxyHeaderAuth, RepeatedHeadersAndDisallowedUsersAreRefused) {
  OidcConfig allow;
  allow.allowed_emails = {"alice@example.org"};
  allow.allowed_groups = {"admins"};
  auto a = MakeProxyHeaderAuthenticator({"127.0.0.1"}, allow);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE((*a)->Authenticate(ProxyRequest("127.0.0.1:1", "alice", "alice@example.org")).ok());
  EXPECT_TRUE((*a)->Authenticate(ProxyRequest("127.0.0.1:1", "dave", "", "x,admins")).ok());
  EXPECT_EQ(
      (*a)->Authenticate(ProxyRequest("127.0.0.1:1", "mallory", "m@example.org")).status().code(),
      StatusCode::kPermissionDenied);
  auto twice = ProxyRequest("127.0.0.1:1", "mallory");
  twice.headers.Add("X-Forwarded-User", "alice");
  EXPECT_EQ((*a)->Authenticate(twice).status().code(), StatusCode::kPermissionDenied);
}

TEST(ProxyHeaderAuth, MalformedTrustedProxiesAreConfigErrors) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "proxy.example", "::1/129", "1.2.3.4/x"}) {
    EXPECT_EQ(MakeProxyHeaderAuthenticator({bad}, {}).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_FALSE(MakeProxyHeaderAuthenticator({}, {}).ok());
}

}  // namespace
}  // namespace il
