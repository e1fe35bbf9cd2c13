// Bind sources against a real directory tree with planted symlinks.
#include "sidecars/docker/bind_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace il::docker {
namespace {
namespace fs = std::filesystem;

class BindSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("il-bind-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ + "/vol/dir/sub");
    fs::create_directories(root_ + "/outside");
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
};

TEST_F(BindSourceTest, PlainDirectoriesAndFilesPass) {
  EXPECT_TRUE(CheckBindSource({root_ + "/vol", "", false}).ok());
  EXPECT_TRUE(CheckBindSource({root_ + "/vol", "dir/sub", false}).ok());
  { std::ofstream(root_ + "/vol/dir/f") << "x"; }
  EXPECT_TRUE(CheckBindSource({root_ + "/vol", "dir/f", false}).ok());
}

TEST_F(BindSourceTest, ASymlinkToTheHostRootIsRefused) {
  fs::create_symlink("/", root_ + "/vol/x");  // what `ln -s / /scratch/x` leaves behind
  Status s = CheckBindSource({root_ + "/vol", "x", true});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("symbolic link"), std::string::npos) << s.message();
}

TEST_F(BindSourceTest, ASymlinkInTheMiddleIsRefusedEvenWhenItStaysInside) {
  fs::create_symlink(root_ + "/outside", root_ + "/vol/dir/up");
  fs::create_symlink("sub", root_ + "/vol/dir/rel");
  EXPECT_FALSE(CheckBindSource({root_ + "/vol", "dir/up/anything", true}).ok());
  EXPECT_FALSE(CheckBindSource({root_ + "/vol", "dir/rel", false}).ok());
  EXPECT_FALSE(fs::exists(root_ + "/outside/anything"));  // nothing created through a link
}

TEST_F(BindSourceTest, DotDotIsRefused) {
  EXPECT_FALSE(CheckBindSource({root_ + "/vol", "dir/../../outside", false}).ok());
}

TEST_F(BindSourceTest, MissingSubPathIsCreatedOnlyWhenAsked) {
  EXPECT_FALSE(CheckBindSource({root_ + "/vol", "new/deeper", false}).ok());
  EXPECT_TRUE(CheckBindSource({root_ + "/vol", "new/deeper", true}).ok());
  EXPECT_TRUE(fs::is_directory(root_ + "/vol/new/deeper"));
}

TEST_F(BindSourceTest, AFileInTheMiddleIsNotADirectory) {
  { std::ofstream(root_ + "/vol/file") << "x"; }
  EXPECT_FALSE(CheckBindSource({root_ + "/vol", "file/x", true}).ok());
}

}  // namespace
}  // namespace il::docker
