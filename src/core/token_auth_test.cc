#include "core/token_auth.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

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

TEST_F(TokenAuthTest, ATokenFileFollowsARotationByRenameAndForgetsADeletedFile) {
  TokenFile file(path_);
  EXPECT_EQ(file.Get().value(), "s3cret");
  // Same size, renamed into place (as a refresh sidecar or a kubelet volume does it).
  std::string next = path_.string() + ".next";
  std::ofstream(next) << "s3cre7\n";
  std::filesystem::rename(next, path_);
  EXPECT_EQ(file.Get().value(), "s3cre7");
  std::filesystem::remove(path_);
  EXPECT_FALSE(file.Get().ok());  // never the last token once the file is gone
  Write("  \n");
  EXPECT_EQ(file.Get().status().code(), StatusCode::kFailedPrecondition);
  Write("back");
  EXPECT_EQ(file.Get().value(), "back");
}

TEST_F(TokenAuthTest, ATokenFileRewrittenInPlaceWithTheSameSizeIsReReadWithinASecond) {
  TokenFile file(path_);
  EXPECT_EQ(file.Get().value(), "s3cret");
  struct stat before {};
  ASSERT_EQ(::stat(path_.c_str(), &before), 0);
  Write("s3cre7\n");
  // Put the old modification time back: nothing in stat() tells the rewrite apart.
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, path_.c_str(), times, 0), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(file.Get().value(), "s3cre7");
}

TEST_F(TokenAuthTest, DisabledWithoutPath) {
  TokenAuth auth("");
  EXPECT_TRUE(auth.Check(http::Headers()).ok());
}

}  // namespace
}  // namespace il
