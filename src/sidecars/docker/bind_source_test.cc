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
  void TearDown() override {
    EXPECT_TRUE(UnpinBelow(root_).ok());
    fs::remove_all(root_);
  }
  // Mounts whose mount point is `path`, from /proc/self/mountinfo.
  static int MountsAt(const std::string& path) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      if (line.find(" " + path + " ") != std::string::npos) ++n;
    }
    return n;
  }
  std::string root_;
};

TEST_F(BindSourceTest, PlainDirectoriesAndFilesPass) {
  EXPECT_TRUE(CheckBindSource({root_ + "/vol", "", false, ""}).ok());
  EXPECT_TRUE(CheckBindSource({root_ + "/vol", "dir/sub", false, ""}).ok());
  { std::ofstream(root_ + "/vol/dir/f") << "x"; }
  EXPECT_TRUE(CheckBindSource({root_ + "/vol", "dir/f", false, ""}).ok());
}

TEST_F(BindSourceTest, ASymlinkToTheHostRootIsRefused) {
  fs::create_symlink("/", root_ + "/vol/x");  // what `ln -s / /scratch/x` leaves behind
  Status s = CheckBindSource({root_ + "/vol", "x", true, ""});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("symbolic link"), std::string::npos) << s.message();
}

TEST_F(BindSourceTest, ASymlinkInTheMiddleIsRefusedEvenWhenItStaysInside) {
  fs::create_symlink(root_ + "/outside", root_ + "/vol/dir/up");
  fs::create_symlink("sub", root_ + "/vol/dir/rel");
  EXPECT_FALSE(CheckBindSource({root_ + "/vol", "dir/up/anything", true, ""}).ok());
  EXPECT_FALSE(CheckBindSource({root_ + "/vol", "dir/rel", false, ""}).ok());
  EXPECT_FALSE(fs::exists(root_ + "/outside/anything"));  // nothing created through a link
}

TEST_F(BindSourceTest, DotDotIsRefused) {
  EXPECT_FALSE(CheckBindSource({root_ + "/vol", "dir/../../outside", false, ""}).ok());
}

TEST_F(BindSourceTest, MissingSubPathIsCreatedOnlyWhenAsked) {
  EXPECT_FALSE(CheckBindSource({root_ + "/vol", "new/deeper", false, ""}).ok());
  EXPECT_TRUE(CheckBindSource({root_ + "/vol", "new/deeper", true, ""}).ok());
  EXPECT_TRUE(fs::is_directory(root_ + "/vol/new/deeper"));
}

TEST_F(BindSourceTest, AFileInTheMiddleIsNotADirectory) {
  { std::ofstream(root_ + "/vol/file") << "x"; }
  EXPECT_FALSE(CheckBindSource({root_ + "/vol", "file/x", true, ""}).ok());
}

// The pin keeps the checked directory even after the pod swaps it for a symlink to `/`.
TEST_F(BindSourceTest, APinnedDirectorySurvivesASwapForASymlink) {
  { std::ofstream(root_ + "/vol/dir/sub/marker") << "x"; }
  BindCheck check{root_ + "/vol", "dir/sub", false, root_ + "/pins/app/0"};
  auto pinned = PinBindSource(check);
  ASSERT_TRUE(pinned.ok()) << pinned.status().message();
  if (!pinned->mounted) {  // not allowed to mount: the documented fallback
    EXPECT_TRUE(fs::is_symlink(check.pin));
    GTEST_SKIP() << "mount(2) not permitted here: " << pinned->why;
  }
  EXPECT_EQ(fs::status(root_ + "/pins/app").permissions() & fs::perms::all, fs::perms::owner_all);
  fs::rename(root_ + "/vol/dir/sub", root_ + "/vol/dir/old");
  fs::create_symlink("/", root_ + "/vol/dir/sub");
  EXPECT_TRUE(fs::exists(check.pin + "/marker"));
  EXPECT_FALSE(fs::exists(check.pin + "/proc"));
  // The next start checks again and refuses.
  EXPECT_FALSE(PinBindSource(check).ok());
}

TEST_F(BindSourceTest, PinningAgainDoesNotStackAndUnpinKeepsTheSource) {
  { std::ofstream(root_ + "/vol/dir/f") << "data"; }
  BindCheck dir{root_ + "/vol", "dir", false, root_ + "/pins/app/0"};
  BindCheck file{root_ + "/vol", "dir/f", false, root_ + "/pins/app/1"};
  for (int i = 0; i < 3; ++i) {
    auto d = PinBindSource(dir);
    auto f = PinBindSource(file);
    ASSERT_TRUE(d.ok() && f.ok());
    if (!d->mounted) GTEST_SKIP() << "mount(2) not permitted here: " << d->why;
  }
  EXPECT_TRUE(fs::is_directory(dir.pin));
  EXPECT_TRUE(fs::is_regular_file(file.pin));
  EXPECT_EQ(MountsAt(dir.pin), 1);
  EXPECT_EQ(MountsAt(file.pin), 1);
  ASSERT_TRUE(UnpinBelow(root_ + "/pins").ok());
  EXPECT_EQ(MountsAt(dir.pin), 0);
  EXPECT_EQ(MountsAt(file.pin), 0);
  fs::remove_all(root_ + "/pins");  // what a pod delete does next
  EXPECT_TRUE(fs::exists(root_ + "/vol/dir/f"));
}

}  // namespace
}  // namespace il::docker
