// What a job can leave in its own directory in place of a log or status file.
#include "sidecars/slurm/job_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sidecars/slurm/log_reader.h"
#include "sidecars/slurm/pod_state.h"

namespace il::slurm {
namespace {
namespace fs = std::filesystem;

class JobFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("il-jobfiles-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    secret_ = dir_ + "-secret";
    std::ofstream(secret_) << "ROOT ONLY\n";
    ::chmod(secret_.c_str(), 0600);
  }
  void TearDown() override {
    fs::remove_all(dir_);
    fs::remove(secret_);
  }
  std::string dir_, secret_;
};

TEST_F(JobFilesTest, RegularFilesAreRead) {
  std::ofstream(dir_ + "/run-c.status") << "3 1800000000.5\n";
  EXPECT_EQ(ReadSmallJobFile(dir_, "run-c.status"), "3 1800000000.5\n");
  EXPECT_TRUE(JobFileExists(dir_, "run-c.status"));
  EXPECT_FALSE(JobFileExists(dir_, "missing"));
  EXPECT_EQ(ReadSmallJobFile(dir_, "missing"), std::nullopt);
}

TEST_F(JobFilesTest, ALogReplacedByASymlinkToARootOnlyFileIsNotRead) {
  fs::create_symlink(secret_, dir_ + "/run-c.out");
  auto f = JobFile::Open(dir_, "run-c.out");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("symbolic link"), std::string::npos);
  LogTail t(dir_, "run-c.out");
  EXPECT_TRUE(t.Read(true).empty());
  EXPECT_FALSE(t.exists());
  EXPECT_EQ(ReadSmallJobFile(dir_, "run-c.out"), std::nullopt);
}

TEST_F(JobFilesTest, ASymlinkToDevZeroIsNotRead) {
  fs::create_symlink("/dev/zero", dir_ + "/run-c.out");
  LogTail t(dir_, "run-c.out");
  EXPECT_TRUE(t.Read(true).empty());
  EXPECT_EQ(ReadSmallJobFile(dir_, "run-c.out"), std::nullopt);
}

TEST_F(JobFilesTest, AFifoInPlaceOfAStatusFileDoesNotBlock) {
  ASSERT_EQ(::mkfifo((dir_ + "/run-c.status").c_str(), 0600), 0);
  EXPECT_EQ(ReadSmallJobFile(dir_, "run-c.status"), std::nullopt);  // returns at once
  EXPECT_FALSE(JobFileExists(dir_, "run-c.status"));
  ContainerFiles f = ReadContainerFiles(dir_, {"c", "img", false});
  EXPECT_FALSE(f.exit_code.has_value());
}

TEST_F(JobFilesTest, AHardLinkIsRefused) {
  std::ofstream(dir_ + "/orig") << "x\n";
  fs::create_hard_link(dir_ + "/orig", dir_ + "/run-c.out");
  EXPECT_FALSE(JobFile::Open(dir_, "run-c.out").ok());
}

TEST_F(JobFilesTest, AJobDirectoryReplacedByASymlinkIsNotEntered) {
  std::string other = dir_ + "/elsewhere";
  fs::create_directories(other);
  std::ofstream(other + "/job.status") << "0 1\n";
  fs::create_symlink(other, dir_ + "/link");
  EXPECT_EQ(ReadSmallJobFile(dir_ + "/link", "job.status"), std::nullopt);
}

TEST_F(JobFilesTest, SmallReadsAreCapped) {
  std::ofstream(dir_ + "/big") << std::string(100000, 'x');
  EXPECT_EQ(ReadSmallJobFile(dir_, "big", 10)->size(), 10u);
}

TEST_F(JobFilesTest, TailStartsNearTheEndAndReadsInChunks) {
  {
    std::ofstream out(dir_ + "/log");
    for (int i = 0; i < 100000; ++i) out << "1800000000 line " << i << "\n";
  }
  auto f = JobFile::Open(dir_, "log");
  ASSERT_TRUE(f.ok());
  uint64_t off = f->TailOffset(2, 1 << 20);
  EXPECT_EQ(*f->ReadAt(off, 1000), "1800000000 line 99998\n1800000000 line 99999\n");
  EXPECT_EQ(f->TailOffset(0, 1 << 20), f->size());
  LogTail tail(dir_, "log");
  tail.StartAtTail(3);
  auto lines = tail.Read(true);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "line 99997");
  // Without tail: bounded chunks, every line exactly once.
  LogTail all(dir_, "log");
  size_t n = 0, calls = 0;
  do {
    n += all.Read(true, size_t{64} * 1024).size();
    ++calls;
  } while (all.more());
  EXPECT_EQ(n, 100000u);
  EXPECT_GT(calls, 10u);
}

TEST_F(JobFilesTest, TailIsBoundedByMaxBytesAndSkipsAPartialLine) {
  std::ofstream(dir_ + "/log") << "1800000000 " << std::string(5000, 'a') << "\n1800000000 b\n";
  LogTail tail(dir_, "log");
  tail.StartAtTail(5);  // wants more lines than the bound allows? the file is small: all
  EXPECT_EQ(tail.Read(true).size(), 2u);
  auto f = JobFile::Open(dir_, "log");
  EXPECT_GT(f->TailOffset(5, 100), 0u);  // never further back than 100 bytes
}

}  // namespace
}  // namespace il::slurm
