#include "vk/token_refresher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/base64.h"
#include "core/http_server.h"

namespace il::vk {
namespace {

using namespace std::chrono_literals;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A local OAuth2 token endpoint: records what it was sent, answers what the test says.
class TokenRefresherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("token-refresher-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    secret_file_ = (dir_ / "secret").string();
    token_file_ = (dir_ / "token").string();
    std::ofstream(secret_file_) << "s3cr3t:&=+ \n";
    server_ = std::make_unique<http::HttpServer>(http::ServerOptions{});
    server_->Handle("/realms/hpc/token", [this](const http::Request& r, http::ResponseWriter& w) {
      std::lock_guard lock(mu_);
      ++calls_;
      method_ = r.method;
      authorization_ = r.headers.Get("authorization");
      content_type_ = r.headers.Get("content-type");
      body_ = r.body;
      w.Reply(status_, reply_);
    });
    ASSERT_TRUE(server_->Start().ok());
    config_.token_url = server_->url() + "/realms/hpc/token";
    config_.client_id = "vk node-1";
    config_.client_secret_file = secret_file_;
    config_.scope = "interlink openid";
    config_.audience = "interlink";
  }
  void TearDown() override {
    server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<TokenRefresher> Make() {
    auto r = TokenRefresher::Create(config_, token_file_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : nullptr;
  }

  std::filesystem::path dir_;
  std::string secret_file_, token_file_;
  OAuth2ClientConfig config_;
  std::unique_ptr<http::HttpServer> server_;
  std::mutex mu_;
  int calls_ = 0;
  std::string method_, authorization_, content_type_, body_;
  int status_ = 200;
  std::string reply_ =
      R"({"access_token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","token_type":"Bearer","expires_in":3600})";
};

TEST_F(TokenRefresherTest, WritesTheAccessTokenAtomicallyWithMode0600) {
  auto r = Make();
  auto next = r->RefreshOnce();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(*next, 3540s);  // expires_in - RefreshBeforeSeconds (60)
  EXPECT_EQ(ReadAll(token_file_), "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
  struct stat st {};
  ASSERT_EQ(::stat(token_file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temp files left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 2);  // secret + token
}

TEST_F(TokenRefresherTest, SendsClientCredentialsAsTheRfcSays) {
  auto r = Make();
  ASSERT_TRUE(r->RefreshOnce().ok());
  std::lock_guard lock(mu_);
  EXPECT_EQ(method_, "POST");
  EXPECT_EQ(content_type_, "application/x-www-form-urlencoded");
  EXPECT_EQ(body_, "grant_type=client_credentials&scope=interlink+openid&audience=interlink");
  ASSERT_EQ(authorization_.rfind("Basic ", 0), 0u);
  // id and secret form-encoded, then Basic; the secret file's trailing newline trimmed.
  EXPECT_EQ(*Base64Decode(authorization_.substr(6)), "vk+node-1:s3cr3t%3A%26%3D%2B");
}

TEST_F(TokenRefresherTest, ErrorsKeepTheOldTokenAndNeverShowTheSecret) {
  auto r = Make();
  ASSERT_TRUE(r->RefreshOnce().ok());
  const std::string old = ReadAll(token_file_);

  status_ = 401;
  reply_ = R"({"error":"invalid_client","error_description":"bad secret"})";
  auto st = r->RefreshOnce().status();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("invalid_client (bad secret)"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("s3cr3t"), std::string::npos);
  EXPECT_EQ(ReadAll(token_file_), old);

  status_ = 503;
  reply_ = "busy";
  EXPECT_EQ(r->RefreshOnce().status().code(), StatusCode::kUnavailable);
  status_ = 200;
  for (const char* bad :
       {"not json", R"({"token_type":"Bearer"})", R"({"access_token":"a\nb"})",
        R"({"access_token":""})", R"({"access_token":"x","token_type":"DPoP"})"}) {
    reply_ = bad;
    EXPECT_FALSE(r->RefreshOnce().ok()) << bad;
    EXPECT_EQ(ReadAll(token_file_), old) << bad;
  }
  // A missing secret file is reported by path, not content.
  std::filesystem::remove(secret_file_);
  st = r->RefreshOnce().status();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find(secret_file_), std::string::npos);
}

TEST_F(TokenRefresherTest, SecretFileIsReReadOnEveryRound) {
  auto r = Make();
  ASSERT_TRUE(r->RefreshOnce().ok());
  std::ofstream(secret_file_) << "rotated";
  ASSERT_TRUE(r->RefreshOnce().ok());
  std::lock_guard lock(mu_);
  EXPECT_EQ(*Base64Decode(authorization_.substr(6)), "vk+node-1:rotated");
}

TEST_F(TokenRefresherTest, StartWritesAtOnceAndStopReturnsPromptly) {
  auto r = Make();
  ASSERT_TRUE(r->Start().ok());
  EXPECT_FALSE(ReadAll(token_file_).empty());
  r->Stop();  // would hang for ~59 min if the wait ignored Stop
  std::lock_guard lock(mu_);
  EXPECT_EQ(calls_, 1);
}

TEST(TokenRefresher, NextDelayRenewsBeforeExpiry) {
  EXPECT_EQ(TokenRefresher::NextDelay(3600s, 60s), 3540s);
  EXPECT_EQ(TokenRefresher::NextDelay(100s, 60s), 50s);  // short-lived: at half-life
  EXPECT_EQ(TokenRefresher::NextDelay(4s, 60s), 5s);     // never busier than every 5 s
  EXPECT_EQ(TokenRefresher::NextDelay(0s, 60s), 300s);   // no expires_in
}

TEST(TokenRefresher, PlainHttpIsRefusedExceptOnLoopback) {
  OAuth2ClientConfig c;
  c.client_id = "x";
  c.client_secret_file = "/dev/null";
  c.token_url = "http://idp.example/token";
  EXPECT_EQ(TokenRefresher::Create(c, "/tmp/t").status().code(), StatusCode::kInvalidArgument);
  c.token_url = "https://idp.example/token";
  EXPECT_TRUE(TokenRefresher::Create(c, "/tmp/t").ok());
  EXPECT_FALSE(TokenRefresher::Create(c, "").ok());
  c.token_url = "http://127.0.0.1:1/token";
  EXPECT_TRUE(TokenRefresher::Create(c, "/tmp/t").ok());
}

}  // namespace
}  // namespace il::vk
