// TokenReview and SubjectAccessReview: asking the API server who a bearer token belongs
// to (authentication.k8s.io/v1) and whether a user may do something
// (authorization.k8s.io/v1). This is how a kubelet delegates the authentication and
// authorization of its own HTTPS API to the cluster (webhook mode).
//
// Both are a POST of a review object to a collection that stores nothing; the reply is
// the same object with `status` filled. The caller needs `create` on tokenreviews and
// subjectaccessreviews (ClusterRole system:auth-delegator).
//
// Errors: a failed request is returned as its Status (kube/api_error.h); a reply without
// the expected fields is kBadGateway. A token that is not valid, or an access that is not
// allowed, is an OK result with authenticated / allowed false.
//
// Thread-safety: pure functions over a thread-safe KubeApi.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "kube/kube_api.h"

namespace il::kube {

inline constexpr char kTokenReviewsPath[] = "/apis/authentication.k8s.io/v1/tokenreviews";
inline constexpr char kSubjectAccessReviewsPath[] =
    "/apis/authorization.k8s.io/v1/subjectaccessreviews";

// A user as the API server describes it (authentication/v1 UserInfo).
struct UserInfo {
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  bool operator==(const UserInfo&) const = default;
};

struct TokenReviewResult {
  bool authenticated = false;
  UserInfo user;
  std::vector<std::string> audiences;
  std::string error;  // status.error: why the token was not authenticated, if said
};

// POSTs a TokenReview for `token` (spec.audiences only when `audiences` is not empty).
Result<TokenReviewResult> ReviewToken(KubeApi& api, const std::string& token,
                                      const std::vector<std::string>& audiences = {});

// authorization/v1 ResourceAttributes; empty fields are left out of the request.
struct ResourceAttributes {
  std::string namespace_;
  std::string verb;
  std::string group;
  std::string version;
  std::string resource;
  std::string subresource;
  std::string name;
};

struct AccessReviewSpec {
  ResourceAttributes resource;
  UserInfo user;
};

struct AccessDecision {
  bool allowed = false;
  bool denied = false;  // an authorizer said no explicitly (allowed is then false)
  std::string reason;
  std::string evaluation_error;
};

// The SubjectAccessReview object sent for `spec` (also a stable cache key when
// serialised: fields always come in the same order).
boost::json::value SubjectAccessReviewObject(const AccessReviewSpec& spec);

// POSTs a SubjectAccessReview for `spec`.
Result<AccessDecision> ReviewAccess(KubeApi& api, const AccessReviewSpec& spec);

}  // namespace il::kube
