#include "core/jwks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "core/http_server.h"
#include "core/jwt_test_util.h"
#include "testing/fake_clock.h"

namespace il {
namespace {

using il::testing::EcKey;
using il::testing::Jwks;
using il::testing::RsaKey;
using il::testing::RsaKey2;
using namespace std::chrono_literals;

// A source whose document the test sets; counts fetches.
class FakeSource : public JwksSource {
 public:
  Result<std::string> Fetch() override {
    ++fetches;
    if (!up) return Unavailable("IdP down");
    return doc;
  }
  bool Changed() override { return false; }
  std::string Describe() const override { return "fake JWKS"; }
  std::string doc;
  bool up = true;
  int fetches = 0;
};

TEST(Jwks, ParsesRsaAndEcKeysAndSkipsTheRest) {
  boost::json::object enc = il::testing::Jwk(RsaKey2(), "enc");
  enc["use"] = "enc";
  boost::json::object oct{{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}};
  boost::json::object bad_alg = il::testing::Jwk(RsaKey2(), "rs512");
  bad_alg["alg"] = "RS512";
  boost::json::object p384{{"kty", "EC"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}};
  boost::json::object broken{{"kty", "RSA"}, {"n", "!!"}, {"e", "AQAB"}};
  boost::json::object doc{{"keys", boost::json::array{il::testing::Jwk(RsaKey(), "rsa"),
                                                      il::testing::Jwk(EcKey(), "ec"), enc, oct,
                                                      bad_alg, p384, broken, 42}}};
  std::vector<std::string> skipped;
  auto keys = ParseJwks(boost::json::serialize(doc), &skipped);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].kid, "rsa");
  EXPECT_EQ((*keys)[0].key.algorithm(), "RS256");
  EXPECT_EQ((*keys)[1].kid, "ec");
  EXPECT_EQ((*keys)[1].key.algorithm(), "ES256");
  EXPECT_EQ(skipped.size(), 5u);
}

TEST(Jwks, RejectsDocumentsThatAreNotKeySets) {
  EXPECT_FALSE(ParseJwks("").ok());
  EXPECT_FALSE(ParseJwks("[]").ok());
  EXPECT_FALSE(ParseJwks("{\"keys\": 1}").ok());
  EXPECT_TRUE(ParseJwks("{\"keys\": []}").ok());
}

TEST(Jwks, FindsByKidOrByAlgorithmWithoutKid) {
  auto src = std::make_unique<FakeSource>();
  src->doc = Jwks({{RsaKey(), "a"}, {RsaKey2(), "b"}, {EcKey(), "c"}});
  auto clock = std::make_shared<testing::FakeClock>();
  JwksKeySet set(std::move(src), {}, clock);
  EXPECT_EQ(set.Find("a", "RS256")->size(), 1u);
  EXPECT_EQ(set.Find("", "RS256")->size(), 2u);
  EXPECT_EQ(set.Find("", "ES256")->size(), 1u);
  EXPECT_EQ(set.Find("c", "RS256").status().code(), StatusCode::kNotFound);  // kid c is EC
  EXPECT_EQ(set.fetches(), 1);  // the miss comes within the refresh interval
}

TEST(Jwks, UnknownKidRefreshesAtMostOncePerInterval) {
  auto owned = std::make_unique<FakeSource>();
  FakeSource* src = owned.get();
  src->doc = Jwks({{RsaKey(), "old"}});
  auto clock = std::make_shared<testing::FakeClock>();
  JwksKeySet set(std::move(owned), {10s, 3600s}, clock);
  ASSERT_TRUE(set.Find("old", "RS256").ok());
  EXPECT_EQ(src->fetches, 1);

  // The IdP rotates: a token names the new kid.
  src->doc = Jwks({{RsaKey(), "old"}, {RsaKey2(), "new"}});
  clock->Advance(11s);
  auto found = set.Find("new", "RS256");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(src->fetches, 2);

  // Made-up kids: one fetch per interval, however many tokens.
  clock->Advance(11s);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(set.Find("bogus-" + std::to_string(i), "RS256").status().code(),
              StatusCode::kNotFound);
  }
  EXPECT_EQ(src->fetches, 3);
  clock->Advance(10s);
  EXPECT_FALSE(set.Find("bogus", "RS256").ok());
  EXPECT_EQ(src->fetches, 4);
  // Known kids never cause a fetch.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(set.Find("old", "RS256").ok());
  EXPECT_EQ(src->fetches, 4);
}

TEST(Jwks, UnreachableSourceIsUnavailableAndKeepsOldKeys) {
  auto owned = std::make_unique<FakeSource>();
  FakeSource* src = owned.get();
  src->up = false;
  auto clock = std::make_shared<testing::FakeClock>();
  JwksKeySet set(std::move(owned), {10s, 60s}, clock);
  EXPECT_EQ(set.Find("a", "RS256").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(set.Find("a", "RS256").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(src->fetches, 1);  // rate-limited even while never loaded

  src->up = true;
  src->doc = Jwks({{RsaKey(), "a"}});
  clock->Advance(10s);
  ASSERT_TRUE(set.Find("a", "RS256").ok());

  // Older than max_age: refetched; the IdP is down, the cached key still works.
  src->up = false;
  clock->Advance(61s);
  EXPECT_TRUE(set.Find("a", "RS256").ok());
  EXPECT_EQ(src->fetches, 3);
  // An unknown kid while the IdP is down: we cannot tell, so 503 rather than 403.
  clock->Advance(10s);
  EXPECT_EQ(set.Find("b", "RS256").status().code(), StatusCode::kUnavailable);
}

// A source whose second fetch blocks until the test releases it.
class BlockingSource : public JwksSource {
 public:
  Result<std::string> Fetch() override {
    if (++fetches == 2) {
      entered.set_value();
      release.get_future().wait();
    }
    return doc;
  }
  bool Changed() override { return false; }
  std::string Describe() const override { return "blocking JWKS"; }
  std::string doc;
  std::atomic<int> fetches{0};
  std::promise<void> entered, release;
};

TEST(Jwks, KnownKidsDoNotWaitForAFetchInFlight) {
  auto owned = std::make_unique<BlockingSource>();
  BlockingSource* src = owned.get();
  src->doc = Jwks({{RsaKey(), "old"}});
  auto clock = std::make_shared<testing::FakeClock>();
  JwksKeySet set(std::move(owned), {10s, 3600s}, clock);
  ASSERT_TRUE(set.Find("old", "RS256").ok());
  clock->Advance(11s);
  src->doc = Jwks({{RsaKey(), "old"}, {RsaKey2(), "new"}});
  // A token with the new kid triggers a fetch that hangs (a slow IdP)...
  std::thread rotated([&] { EXPECT_TRUE(set.Find("new", "RS256").ok()); });
  src->entered.get_future().wait();
  // ...while tokens with known kids are still checked at once.
  EXPECT_TRUE(set.Find("old", "RS256").ok());
  EXPECT_TRUE(set.Find("", "RS256").ok());
  src->release.set_value();
  rotated.join();
  EXPECT_TRUE(set.Find("new", "RS256").ok());
  EXPECT_EQ(src->fetches.load(), 2);
}

class JwksFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("jwks-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "jwks.json").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& text) {
    std::string tmp = path_ + ".tmp";
    std::ofstream(tmp) << text;
    std::filesystem::rename(tmp, path_);
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(JwksFileTest, FileIsReReadWhenItChanges) {
  Write(Jwks({{RsaKey(), "one"}}));
  auto clock = std::make_shared<testing::FakeClock>();
  JwksKeySet set(MakeJwksFileSource(path_), {3600s, 0s}, clock);
  ASSERT_TRUE(set.Find("one", "RS256").ok());
  EXPECT_FALSE(set.Find("two", "RS256").ok());
  Write(Jwks({{RsaKey2(), "two"}}));  // no time passes: the change alone triggers it
  EXPECT_TRUE(set.Find("two", "RS256").ok());
  EXPECT_FALSE(set.Find("one", "RS256").ok());
  // A broken rewrite keeps the keys we had.
  Write("{not json");
  EXPECT_TRUE(set.Find("two", "RS256").ok());
}

TEST_F(JwksFileTest, MissingFileIsUnavailable) {
  auto clock = std::make_shared<testing::FakeClock>();
  JwksKeySet set(MakeJwksFileSource(path_), {}, clock);
  EXPECT_EQ(set.Find("x", "RS256").status().code(), StatusCode::kUnavailable);
}

TEST(JwksUrl, FetchesOverHttpOnLoopbackAndRefusesPlainHttpElsewhere) {
  http::HttpServer server({});
  std::atomic<int> hits{0};
  std::string doc = Jwks({{EcKey(), "ec"}});
  server.Handle("/keys", [&](const http::Request&, http::ResponseWriter& w) {
    ++hits;
    w.Reply(200, doc);
  });
  ASSERT_TRUE(server.Start().ok());
  auto src = MakeJwksUrlSource(server.url() + "/keys", "");
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  JwksKeySet set(std::move(*src), {});
  EXPECT_TRUE(set.Find("ec", "ES256").ok());
  EXPECT_EQ(hits.load(), 1);

  auto missing = MakeJwksUrlSource(server.url() + "/nope", "");
  ASSERT_TRUE(missing.ok());
  auto fetched = (*missing)->Fetch();
  EXPECT_EQ(fetched.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(fetched.status().message().find("404"), std::string::npos);
  server.Stop();

  EXPECT_FALSE(MakeJwksUrlSource("http://idp.example/keys", "").ok());
  EXPECT_FALSE(MakeJwksUrlSource("http://10.0.0.1/keys", "").ok());
  EXPECT_FALSE(MakeJwksUrlSource("ftp://idp.example/keys", "").ok());
  EXPECT_TRUE(MakeJwksUrlSource("https://idp.example/keys", "").ok());
}

TEST(JwksUrl, HttpsIsVerifiedAgainstTheConfiguredCa) {
  const std::string tls = std::string(IL_SOURCE_DIR) + "/test/data/tls/";
  http::ServerOptions so;
  so.listen = "https://127.0.0.1:0";
  so.tls.cert_file = tls + "server.crt";
  so.tls.key_file = tls + "server.key";
  http::HttpServer server(so);
  std::string doc = Jwks({{RsaKey(), "r"}});
  server.Handle("/certs",
                [&](const http::Request&, http::ResponseWriter& w) { w.Reply(200, doc); });
  ASSERT_TRUE(server.Start().ok());
  std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/certs";

  auto trusted = MakeJwksUrlSource(url, tls + "ca.crt");
  ASSERT_TRUE(trusted.ok()) << trusted.status().ToString();
  JwksKeySet set(std::move(*trusted), {});
  EXPECT_TRUE(set.Find("r", "RS256").ok());

  // Without the CA (system roots only) the test certificate is refused.
  auto untrusted = MakeJwksUrlSource(url, "");
  ASSERT_TRUE(untrusted.ok());
  JwksKeySet refused(std::move(*untrusted), {});
  EXPECT_EQ(refused.Find("r", "RS256").status().code(), StatusCode::kUnavailable);
  server.Stop();
}

}  // namespace
}  // namespace il
