#include "kube/api_error.h"

#include <boost/json.hpp>
#include <charconv>

namespace il::kube {
namespace {

constexpr std::string_view kTag = " [HTTP ";

std::string DefaultReason(int http_status) {
  switch (http_status) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 412:
      return "PreconditionFailed";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace

StatusCode StatusCodeForApi(int http_status, std::string_view reason) {
  if (http_status >= 200 && http_status < 300) return StatusCode::kOk;
  switch (http_status) {
    case 400:
    case 422:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
    case 410:
      return StatusCode::kNotFound;
    case 409:
      return reason == "AlreadyExists" ? StatusCode::kAlreadyExists
                                       : StatusCode::kFailedPrecondition;
    case 412:
      return StatusCode::kFailedPrecondition;
    case 413:
      return StatusCode::kPayloadTooLarge;
    case 429:
      return StatusCode::kResourceExhausted;
    case 501:
      return StatusCode::kUnimplemented;
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      break;
  }
  if (http_status >= 400 && http_status < 500) return StatusCode::kInvalidArgument;
  return StatusCode::kBadGateway;
}

Status MakeApiStatus(int http_status, std::string_view reason, std::string_view message) {
  std::string r = reason.empty() ? DefaultReason(http_status) : std::string(reason);
  std::string msg(message);
  if (msg.empty()) msg = r;
  msg += std::string(kTag) + std::to_string(http_status) + " " + r + "]";
  return Status(StatusCodeForApi(http_status, r), std::move(msg));
}

Status StatusFromApiReply(int http_status, std::string_view body, std::string_view what) {
  if (http_status >= 200 && http_status < 300) return Status::Ok();
  std::string reason;
  std::string message;
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    if (auto* r = o.if_contains("reason"); r && r->is_string()) reason = r->as_string().c_str();
    if (auto* m = o.if_contains("message"); m && m->is_string()) message = m->as_string().c_str();
  }
  if (message.empty()) {
    // Not a Status object: keep a bounded excerpt of whatever came back.
    message = std::string(body.substr(0, 512));
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r'))
      message.pop_back();
  }
  if (!what.empty()) message = std::string(what) + ": " + message;
  return MakeApiStatus(http_status, reason, message);
}

std::optional<ApiError> ApiErrorOf(const Status& status) {
  if (status.ok()) return std::nullopt;
  const std::string& m = status.message();
  if (m.empty() || m.back() != ']') return std::nullopt;
  auto pos = m.rfind(kTag);
  if (pos == std::string::npos) return std::nullopt;
  std::string_view rest(m.data() + pos + kTag.size(), m.size() - pos - kTag.size() - 1);
  ApiError e;
  auto [p, err] = std::from_chars(rest.data(), rest.data() + rest.size(), e.http_status);
  if (err != std::errc() || p == rest.data()) return std::nullopt;
  std::string_view tail(p, rest.data() + rest.size() - p);
  if (!tail.empty() && tail.front() == ' ') tail.remove_prefix(1);
  e.reason = std::string(tail);
  return e;
}

bool IsNotFound(const Status& s) { return s.code() == StatusCode::kNotFound; }

bool IsGone(const Status& s) {
  auto e = ApiErrorOf(s);
  return e && e->http_status == 410;
}

bool IsAlreadyExists(const Status& s) { return s.code() == StatusCode::kAlreadyExists; }

bool IsConflict(const Status& s) {
  auto e = ApiErrorOf(s);
  return e && (e->http_status == 412 || (e->http_status == 409 && e->reason != "AlreadyExists"));
}

bool IsTooManyRequests(const Status& s) {
  auto e = ApiErrorOf(s);
  return e ? e->http_status == 429 : s.code() == StatusCode::kResourceExhausted;
}

}  // namespace il::kube
