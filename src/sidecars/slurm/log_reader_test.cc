#include "sidecars/slurm/log_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace il::slurm {
namespace {

const TimePoint kT0 = TimePoint(std::chrono::seconds(1800000000));

TEST(LogReader, ParsesStampedLines) {
  auto lines =
      ParseStampedLog("1800000000.5 hello world\n1800000001.000000  two spaces\nno stamp\n", kT0);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "hello world");
  EXPECT_EQ(lines[0].time, kT0 + std::chrono::milliseconds(500));
  EXPECT_EQ(lines[1].text, " two spaces");
  EXPECT_EQ(lines[2].text, "no stamp");
  EXPECT_EQ(lines[2].time, lines[1].time);
  auto empty = ParseStampedLog("1800000000.1 \n", kT0);
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].text, "");
}

TEST(LogReader, MergesStreamsByTime) {
  auto out = ParseStampedLog("1800000000.1 o1\n1800000000.3 o2\n", kT0);
  auto err = ParseStampedLog("1800000000.2 e1\n1800000000.3 e2\n", kT0);
  auto m = MergeLogLines(out, err);
  std::string s;
  for (const auto& l : m) s += l.text + ",";
  EXPECT_EQ(s, "o1,e1,o2,e2,");
}

TEST(LogReader, TailHandsOutCompleteLinesOnce) {
  auto path = std::filesystem::temp_directory_path() / ("slurm-log-" + std::to_string(::getpid()));
  std::ofstream(path) << "1800000000 a\n1800000001 par";
  LogTail t(path.parent_path().string(), path.filename().string());
  EXPECT_TRUE(t.exists());
  auto first = t.Read();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].text, "a");
  EXPECT_TRUE(t.Read().empty());
  std::ofstream(path, std::ios::app) << "tial\n1800000002 c";
  auto second = t.Read();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].text, "partial");
  auto rest = t.Read(true);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].text, "c");
  std::filesystem::remove(path);
  EXPECT_FALSE(t.exists());
  EXPECT_TRUE(t.Read().empty());
}

}  // namespace
}  // namespace il::slurm
