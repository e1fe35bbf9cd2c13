// Ownership and mode checks on real directories (the test runs as whatever user it is; the
// "another user" cases need root to chown and are skipped otherwise).
#include "core/private_path.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace il {
namespace {
namespace fs = std::filesystem;

class PrivatePathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("il-private-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    ::chmod(root_.c_str(), 0700);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
};

TEST_F(PrivatePathTest, MissingDirectoryIsCreated0700) {
  ASSERT_TRUE(EnsurePrivateDir(root_ + "/a/b").ok());
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(EnsurePrivateDir(root_ + "/a/b").ok());  // again: fine
}

TEST_F(PrivatePathTest, WorldWritableDirectoryIsRefused) {
  fs::create_directories(root_ + "/open");
  ::chmod((root_ + "/open").c_str(), 0777);
  Status s = EnsurePrivateDir(root_ + "/open");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("world-writable"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(root_ + "/open"), std::string::npos);
}

TEST_F(PrivatePathTest, SymlinkedDirectoryIsRefused) {
  fs::create_directories(root_ + "/real");
  fs::create_symlink(root_ + "/real", root_ + "/link");
  EXPECT_FALSE(EnsurePrivateDir(root_ + "/link").ok());
}

TEST_F(PrivatePathTest, AncestorWritableByOthersWithoutStickyBitIsRefused) {
  fs::create_directories(root_ + "/shared/mine");
  ::chmod((root_ + "/shared").c_str(), 0777);
  ::chmod((root_ + "/shared/mine").c_str(), 0700);
  EXPECT_FALSE(EnsurePrivateDir(root_ + "/shared/mine").ok());
  ::chmod((root_ + "/shared").c_str(), 01777);  // like /tmp
  EXPECT_TRUE(EnsurePrivateDir(root_ + "/shared/mine").ok());
}

TEST_F(PrivatePathTest, StateFileChecks) {
  EXPECT_TRUE(CheckPrivateFile(root_ + "/state/db").ok());  // missing: fine, dir made
  std::ofstream(root_ + "/state/db") << "x";
  ::chmod((root_ + "/state/db").c_str(), 0600);
  EXPECT_TRUE(CheckPrivateFile(root_ + "/state/db").ok());
  ::chmod((root_ + "/state/db").c_str(), 0666);
  EXPECT_FALSE(CheckPrivateFile(root_ + "/state/db").ok());
  fs::remove(root_ + "/state/db");
  fs::create_symlink("/etc/passwd", root_ + "/state/db");
  EXPECT_FALSE(CheckPrivateFile(root_ + "/state/db").ok());
}

TEST_F(PrivatePathTest, DirectoryOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  fs::create_directories(root_ + "/theirs");
  ASSERT_EQ(::chown((root_ + "/theirs").c_str(), 65534, 65534), 0);
  Status s = EnsurePrivateDir(root_ + "/theirs");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("owned by uid 65534"), std::string::npos) << s.message();
  std::ofstream(root_ + "/f") << "x";
  ASSERT_EQ(::chown((root_ + "/f").c_str(), 65534, 65534), 0);
  EXPECT_FALSE(CheckPrivateFile(root_ + "/f").ok());
}

}  // namespace
}  // namespace il
