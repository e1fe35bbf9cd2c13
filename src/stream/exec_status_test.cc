#include "stream/exec_status.h"

#include <gtest/gtest.h>

namespace il::stream {
namespace {

TEST(ExecStatus, SuccessIsTheKubeletsJson) {
  EXPECT_EQ(ExecStatusJson(0), R"({"metadata":{},"status":"Success"})");
  EXPECT_EQ(ExecStatusText(0), "");
}

TEST(ExecStatus, ExitCodesRoundTrip) {
  for (int code : {0, 1, 7, 255}) {
    auto back = ParseExecStatus(ExecStatusJson(code));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, code);
  }
  EXPECT_NE(ExecStatusJson(7).find(R"("causes":[{"reason":"ExitCode","message":"7"}])"),
            std::string::npos);
}

TEST(ExecStatus, ErrorsKeepTheirMessageWithoutGrowingPerHop) {
  Result<int> err = NotFound("container web not found");
  auto once = ParseExecStatus(ExecStatusJson(err));
  ASSERT_FALSE(once.ok());
  auto twice = ParseExecStatus(ExecStatusJson(once));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "container web not found");
}

TEST(ExecStatus, MalformedStatusIsAnError) {
  EXPECT_FALSE(ParseExecStatus("nope").ok());
  EXPECT_FALSE(ParseExecStatus(R"({"status":"Failure","reason":"NonZeroExitCode"})").ok());
}

}  // namespace
}  // namespace il::stream
