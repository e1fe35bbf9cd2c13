#include "kube/api_error.h"

#include <gtest/gtest.h>

namespace il::kube {
namespace {

TEST(ApiError, KubernetesStatusBodyGivesMessageCodeAndReason) {
  auto s = StatusFromApiReply(
      409,
      R"({"kind":"Status","code":409,"reason":"AlreadyExists","message":"pods \"x\" already exists"})",
      "POST /api/v1/namespaces/default/pods");
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("pods \"x\" already exists"), std::string::npos);
  EXPECT_TRUE(IsAlreadyExists(s));
  EXPECT_FALSE(IsConflict(s));
  auto e = ApiErrorOf(s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->http_status, 409);
  EXPECT_EQ(e->reason, "AlreadyExists");
}

TEST(ApiError, ConflictAndGoneSurviveWithContext) {
  auto conflict = StatusFromApiReply(409, R"({"reason":"Conflict","message":"stale"})")
                      .WithContext("updating node");
  EXPECT_EQ(conflict.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsConflict(conflict));
  auto gone =
      StatusFromApiReply(410, R"({"reason":"Expired","message":"too old resource version"})")
          .WithContext("watch");
  EXPECT_EQ(gone.code(), StatusCode::kNotFound);
  EXPECT_TRUE(IsGone(gone));
  EXPECT_TRUE(IsNotFound(gone));
  EXPECT_FALSE(IsGone(StatusFromApiReply(404, "{}")));
}

TEST(ApiError, MapsOtherCodes) {
  EXPECT_EQ(StatusFromApiReply(422, "{}").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromApiReply(403, "forbidden").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusFromApiReply(429, "").code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(IsTooManyRequests(StatusFromApiReply(429, "")));
  EXPECT_EQ(StatusFromApiReply(500, "").code(), StatusCode::kBadGateway);
  EXPECT_EQ(StatusFromApiReply(503, "").code(), StatusCode::kUnavailable);
  EXPECT_TRUE(StatusFromApiReply(201, "").ok());
}

TEST(ApiError, PlainTextBodyIsKeptAndForeignStatusesAreNotApiErrors) {
  auto s = StatusFromApiReply(502, "bad gateway\n");
  EXPECT_NE(s.message().find("bad gateway [HTTP 502"), std::string::npos);
  EXPECT_FALSE(ApiErrorOf(Unavailable("connection refused")));
  EXPECT_FALSE(IsConflict(Status(StatusCode::kFailedPrecondition, "x")));
}

}  // namespace
}  // namespace il::kube
