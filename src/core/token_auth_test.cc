#include "core/token_auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace il {
namespace {

class TokenAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("il-token-" + std::to_string(getpid()));
    Write("s3cret\n");
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void Write(const std::string& t) { std::ofstream(path_) << t; }
  http::Headers Bearer(const std::string& t) {
    http::Headers h;
    h.Set("Authorization", "Bearer " + t);
    return h;
  }
  std::filesystem::path path_;
};

TEST_F(TokenAuthTest, MissingHeaderIs401WrongTokenIs403) {
  TokenAuth auth(path_);
  EXPECT_EQ(auth.Check(http::Headers()).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Check(Bearer("nope")).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(auth.Check(Bearer("s3cret")).ok());
}

TEST_F(TokenAuthTest, PicksUpAChangedTokenWithoutRestart) {
  TokenAuth auth(path_);
  EXPECT_TRUE(auth.Check(Bearer("s3cret")).ok());
  Write("rotated-token-value");
  EXPECT_TRUE(auth.Check(Bearer("rotated-token-value")).ok());
  EXPECT_EQ(auth.Check(Bearer("s3cret")).code(), StatusCode::kPermissionDenied);
}

TEST_F(TokenAuthTest, MissingTokenFileFailsClosed) {
  TokenAuth auth(path_.string() + ".absent");
  EXPECT_EQ(auth.Check(Bearer("anything")).code(), StatusCode::kPermissionDenied);
}

TEST_F(TokenAuthTest, DisabledWithoutPath) {
  TokenAuth auth("");
  EXPECT_TRUE(auth.Check(http::Headers()).ok());
}

}  // namespace
}  // namespace il
