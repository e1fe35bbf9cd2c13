// Kubernetes API errors as il::Status.
//
// The API server answers failures with a `Status` object
// ({"kind":"Status","code":409,"reason":"AlreadyExists","message":"..."}). StatusFromApiReply
// turns such a reply into an il::Status carrying the API's message plus a machine-readable
// suffix " [HTTP 409 AlreadyExists]", which survives Status::WithContext (that prefixes).
// The Is*() helpers and ApiErrorOf() read that suffix back, so callers can tell cases that
// share an il::StatusCode:
//
//   HTTP                          il::StatusCode        helper
//   400, 422 Invalid              kInvalidArgument
//   401                           kUnauthenticated
//   403                           kPermissionDenied
//   404                           kNotFound             IsNotFound (also true for 410)
//   409 reason AlreadyExists      kAlreadyExists        IsAlreadyExists
//   409 reason Conflict (stale    kFailedPrecondition   IsConflict
//       resourceVersion, failed
//       delete precondition)
//   410 Gone / Expired            kNotFound             IsGone
//   412                           kFailedPrecondition   IsConflict
//   429                           kResourceExhausted
//   500                           kBadGateway
//   503 / 504                     kUnavailable / kDeadlineExceeded
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace il::kube {

struct ApiError {
  int http_status = 0;  // 0 when the failure never reached the API (connection error)
  std::string reason;   // Kubernetes StatusReason, e.g. "NotFound", "Conflict", "Expired"
};

// The il::StatusCode for an API reply with this HTTP code and Kubernetes reason.
StatusCode StatusCodeForApi(int http_status, std::string_view reason);

// Status for a non-2xx reply (OK for 2xx). `body` may be a Kubernetes Status object, any
// other JSON, or text; `what` (e.g. "GET /api/v1/...") prefixes the message.
Status StatusFromApiReply(int http_status, std::string_view body, std::string_view what = "");

// Builds the Status for an API error (used for ERROR events in watch streams too).
Status MakeApiStatus(int http_status, std::string_view reason, std::string_view message);

// The HTTP code and reason of a Status made by StatusFromApiReply, if it is one.
std::optional<ApiError> ApiErrorOf(const Status& status);

bool IsNotFound(const Status& status);         // 404 or 410
bool IsGone(const Status& status);             // 410 (resourceVersion too old / expired)
bool IsAlreadyExists(const Status& status);    // 409 AlreadyExists
bool IsConflict(const Status& status);         // 409 other than AlreadyExists, or 412
bool IsTooManyRequests(const Status& status);  // 429

}  // namespace il::kube
