#include "core/status.h"

#include <gtest/gtest.h>

namespace il {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  IL_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Status, OkByDefaultAndPrintsCodeAndMessage) {
  EXPECT_TRUE(Status().ok());
  Status s = NotFound("pod x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "NotFound: pod x");
  EXPECT_EQ(s.WithContext("status").message(), "status: pod x");
}

TEST(Result, CarriesValueOrStatusThroughMacros) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(Result, BuiltFromOkStatusBecomesInternalError) {
  Result<int> r{Status::Ok()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace il
