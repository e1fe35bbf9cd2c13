#include "core/http_status.h"

#include <gtest/gtest.h>

namespace il {
namespace {

TEST(HttpStatus, EveryCodeSurvivesTheRoundTrip) {
  for (auto c :
       {StatusCode::kInvalidArgument, StatusCode::kUnauthenticated, StatusCode::kPermissionDenied,
        StatusCode::kNotFound, StatusCode::kAlreadyExists, StatusCode::kFailedPrecondition,
        StatusCode::kPayloadTooLarge, StatusCode::kResourceExhausted, StatusCode::kInternal,
        StatusCode::kUnimplemented, StatusCode::kBadGateway, StatusCode::kUnavailable,
        StatusCode::kDeadlineExceeded}) {
    Status s(c, "msg");
    Status back = StatusFromHttp(HttpStatusFor(c), ErrorBody(s));
    EXPECT_EQ(back.code(), c) << StatusCodeName(c);
    EXPECT_EQ(back.message(), "msg");
  }
}

TEST(HttpStatus, ForeignPlainTextBodyBecomesTheMessage) {
  Status s = StatusFromHttp(500, "sbatch: error: invalid partition\n");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "sbatch: error: invalid partition");
}

TEST(HttpStatus, UpstreamServerErrorsBecomeBadGatewayKeepingTheReason) {
  Status s = StatusFromUpstream(500, R"({"message":"job rejected"})");
  EXPECT_EQ(s.code(), StatusCode::kBadGateway);
  EXPECT_EQ(s.message(), "job rejected");
  EXPECT_EQ(StatusFromUpstream(404, "nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(StatusFromUpstream(503, "").code(), StatusCode::kUnavailable);
  EXPECT_TRUE(StatusFromUpstream(200, "").ok());
}

TEST(HttpStatus, OurErrorBodyKeepsItsCodeThroughAnUpstreamHop) {
  // An sbatch rejection (FailedPrecondition) must not arrive as AlreadyExists, and a
  // sidecar's own 500 stays Internal: only foreign 5xx become BadGateway.
  for (auto c : {StatusCode::kFailedPrecondition, StatusCode::kAlreadyExists, StatusCode::kInternal,
                 StatusCode::kUnimplemented, StatusCode::kBadGateway}) {
    Status back = StatusFromUpstream(HttpStatusFor(c), ErrorBody(Status(c, "why")));
    EXPECT_EQ(back.code(), c) << StatusCodeName(c);
    EXPECT_EQ(back.message(), "why");
  }
}

TEST(HttpStatus, ANameThatContradictsTheHttpStatusIsIgnored) {
  EXPECT_EQ(StatusFromHttp(404, R"({"status":"Internal","message":"x"})").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(StatusFromUpstream(500, R"({"status":"NotFound","message":"x"})").code(),
            StatusCode::kBadGateway);
}

TEST(HttpStatus, EmptyBodyStillGivesAMessage) {
  EXPECT_EQ(StatusFromHttp(502, "").message(), "HTTP 502 with an empty body");
}

}  // namespace
}  // namespace il
