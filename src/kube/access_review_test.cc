#include "kube/access_review.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "testing/fake_kube_api.h"

namespace il::kube {
namespace {
namespace json = boost::json;

TEST(ReviewToken, SendsTheTokenAndReadsTheUser) {
  FakeKubeApi api;
  api.ReactToCreate(kTokenReviewsPath, [](const json::value& body) -> Result<json::value> {
    json::value out = body;
    out.as_object()["status"] = json::parse(R"({"authenticated":true,
      "user":{"username":"system:serviceaccount:ns:sa","uid":"u-1",
              "groups":["system:serviceaccounts","system:serviceaccounts:ns"],
              "extra":{"authentication.kubernetes.io/pod-name":["p"]}},
      "audiences":["https://kubernetes.default.svc"]})");
    return out;
  });
  auto r = ReviewToken(api, "tok");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->authenticated);
  EXPECT_EQ(r->user.username, "system:serviceaccount:ns:sa");
  EXPECT_EQ(r->user.uid, "u-1");
  EXPECT_EQ(r->user.groups.size(), 2u);
  EXPECT_EQ(r->user.extra.at("authentication.kubernetes.io/pod-name"),
            std::vector<std::string>{"p"});
  EXPECT_EQ(r->audiences, std::vector<std::string>{"https://kubernetes.default.svc"});
  auto calls = api.calls("CREATE");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].path, "/apis/authentication.k8s.io/v1/tokenreviews");
  EXPECT_EQ(json::serialize(calls[0].body),
            R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview",)"
            R"("spec":{"token":"tok"}})");
}

TEST(ReviewToken, NotAuthenticatedIsAnOkResultWithTheError) {
  FakeKubeApi api;
  api.ReactToCreate(kTokenReviewsPath, [](const json::value&) -> Result<json::value> {
    return json::parse(R"({"status":{"authenticated":false,"error":"token expired"}})");
  });
  auto r = ReviewToken(api, "tok", {"aud"});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->authenticated);
  EXPECT_EQ(r->error, "token expired");
  EXPECT_NE(json::serialize(api.calls("CREATE")[0].body).find(R"("audiences":["aud"])"),
            std::string::npos);
}

TEST(ReviewToken, FailuresAndMalformedRepliesAreErrors) {
  FakeKubeApi api;
  api.ReactToCreate(kTokenReviewsPath, [](const json::value&) -> Result<json::value> {
    return json::parse(R"({"kind":"TokenReview"})");
  });
  EXPECT_EQ(ReviewToken(api, "t").status().code(), StatusCode::kBadGateway);
  api.FailNext("CREATE", kTokenReviewsPath, Status(StatusCode::kPermissionDenied, "forbidden"));
  EXPECT_EQ(ReviewToken(api, "t").status().code(), StatusCode::kPermissionDenied);
  api.ReactToCreate(kTokenReviewsPath, [](const json::value&) -> Result<json::value> {
    return json::parse(R"({"status":{"authenticated":true,"user":{}}})");
  });
  EXPECT_EQ(ReviewToken(api, "t").status().code(), StatusCode::kBadGateway);
}

TEST(ReviewAccess, SendsResourceAttributesAndTheUser) {
  FakeKubeApi api;
  api.ReactToCreate(kSubjectAccessReviewsPath, [](const json::value&) -> Result<json::value> {
    return json::parse(R"({"status":{"allowed":true,"reason":"RBAC: allowed by ..."}})");
  });
  AccessReviewSpec spec;
  spec.resource = {"", "create", "", "v1", "nodes", "proxy", "vk-1"};
  spec.user = {"kube-apiserver-kubelet-client", "", {"system:masters", "system:authenticated"}, {}};
  auto d = ReviewAccess(api, spec);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->allowed);
  EXPECT_FALSE(d->denied);
  EXPECT_EQ(d->reason, "RBAC: allowed by ...");
  // The reference's example request, field for field (empty attributes left out).
  EXPECT_EQ(json::serialize(api.calls("CREATE")[0].body),
            R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",)"
            R"("spec":{"resourceAttributes":{"verb":"create","version":"v1","resource":"nodes",)"
            R"("subresource":"proxy","name":"vk-1"},"user":"kube-apiserver-kubelet-client",)"
            R"("groups":["system:masters","system:authenticated"]}})");
  EXPECT_EQ(api.calls("CREATE")[0].path, "/apis/authorization.k8s.io/v1/subjectaccessreviews");
}

TEST(ReviewAccess, ReadsDeniedAndEvaluationErrors) {
  FakeKubeApi api;
  api.ReactToCreate(kSubjectAccessReviewsPath, [](const json::value&) -> Result<json::value> {
    return json::parse(R"({"status":{"allowed":false,"denied":true,"evaluationError":"x"}})");
  });
  AccessReviewSpec spec;
  spec.user.username = "u";
  spec.user.uid = "1";
  spec.user.extra["k"] = {"v"};
  auto d = ReviewAccess(api, spec);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->allowed);
  EXPECT_TRUE(d->denied);
  EXPECT_EQ(d->evaluation_error, "x");
  std::string sent = json::serialize(api.calls("CREATE")[0].body);
  EXPECT_NE(sent.find(R"("extra":{"k":["v"]},"uid":"1")"), std::string::npos) << sent;
  api.FailNext("CREATE", "", Unavailable("connection refused"));
  EXPECT_EQ(ReviewAccess(api, spec).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace il::kube
