// Tests of the test helpers themselves: a helper that always passes would hide failures.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <fstream>

#include "testing/assert_ok.h"
#include "testing/fake_clock.h"
#include "testing/golden.h"
#include "testing/temp_dir.h"

namespace il::testing {
namespace {

Result<int> Failing() { return NotFound("no such pod"); }

TEST(AssertOk, PassesOnOkAndFailsWithTheStatusText) {
  EXPECT_OK(Status::Ok());
  EXPECT_OK(Result<int>(3));
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(Failing()), "no such pod");
  EXPECT_FATAL_FAILURE(ASSERT_OK(NotFound("gone")), "gone");
}

TEST(TempDir, IsCreatedEmptyAndRemovedWithItsContents) {
  std::filesystem::path p;
  {
    TempDir dir("selftest");
    p = dir.path();
    ASSERT_TRUE(std::filesystem::is_directory(p));
    EXPECT_TRUE(std::filesystem::is_empty(p));
    std::ofstream(dir.File("a")) << "x";
    TempDir other("selftest");
    EXPECT_NE(other.path(), p);
  }
  EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(Golden, MatchesEqualTextAndReportsADifference) {
  ::unsetenv("IL_UPDATE_GOLDEN");
  TempDir dir("golden");
  std::ofstream(dir.File("g")) << "line\n";
  EXPECT_TRUE(MatchesGolden(dir.File("g"), "line\n"));
  auto diff = MatchesGolden(dir.File("g"), "other\n");
  EXPECT_FALSE(diff);
  EXPECT_NE(std::string(diff.message()).find("IL_UPDATE_GOLDEN"), std::string::npos);
  EXPECT_FALSE(MatchesGolden(dir.File("missing"), ""));
}

TEST(Golden, UpdateModeRewritesTheFile) {
  TempDir dir("golden");
  ::setenv("IL_UPDATE_GOLDEN", "1", 1);
  EXPECT_TRUE(MatchesGolden(dir.File("g"), "new\n"));
  ::unsetenv("IL_UPDATE_GOLDEN");
  EXPECT_EQ(ReadFile(dir.File("g")), "new\n");
}

TEST(FakeClock, SleepAdvancesSteadyAndWallTimeAndIsRecorded) {
  FakeClock clock;
  const auto t0 = clock.Now();
  const auto w0 = clock.WallNow();
  EXPECT_TRUE(clock.SleepFor(std::chrono::seconds(2)));
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(clock.Now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(clock.WallNow() - w0, std::chrono::seconds(3));
  ASSERT_EQ(clock.sleeps().size(), 1U);
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(clock.SleepFor(std::chrono::seconds(1), stop.get_token()));
  EXPECT_EQ(clock.Now() - t0, std::chrono::seconds(3)) << "a stopped sleep takes no time";
}

}  // namespace
}  // namespace il::testing
