#include "core/http_status.h"

#include <boost/json.hpp>
#include <optional>

namespace il {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kInternal:
      return 500;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kBadGateway:
      return 502;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
  }
  return 500;
}

StatusCode StatusCodeForHttp(int s) {
  if (s >= 200 && s < 300) return StatusCode::kOk;
  switch (s) {
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
      return StatusCode::kAlreadyExists;
    case 412:
      return StatusCode::kFailedPrecondition;
    case 413:
      return StatusCode::kPayloadTooLarge;
    case 429:
      return StatusCode::kResourceExhausted;
    case 501:
      return StatusCode::kUnimplemented;
    case 502:
      return StatusCode::kBadGateway;
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      break;
  }
  if (s >= 400 && s < 500) return StatusCode::kInvalidArgument;
  return StatusCode::kInternal;
}

std::string ErrorBody(const Status& status) {
  boost::json::object o;
  o["code"] = HttpStatusFor(status.code());
  o["status"] = std::string(StatusCodeName(status.code()));
  o["message"] = status.message();
  return boost::json::serialize(o);
}

namespace {

// The code our own JSON error body names, when it is consistent with the HTTP status
// (409 carries both AlreadyExists and FailedPrecondition; only the body tells them
// apart). Foreign bodies, and names that do not match the status, give nothing.
std::optional<StatusCode> CodeFromBody(int http_status, std::string_view body) {
  if (body.empty() || body.front() != '{') return std::nullopt;
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* name = v.as_object().if_contains("status");
  if (!name || !name->is_string()) return std::nullopt;
  for (int i = static_cast<int>(StatusCode::kInvalidArgument);
       i <= static_cast<int>(StatusCode::kDeadlineExceeded); ++i) {
    auto code = static_cast<StatusCode>(i);
    if (StatusCodeName(code) == name->as_string() && HttpStatusFor(code) == http_status)
      return code;
  }
  return std::nullopt;
}

std::string MessageFromBody(int http_status, std::string_view body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    if (auto* m = o.if_contains("message"); m && m->is_string()) return std::string(m->as_string());
    if (auto* m = o.if_contains("error"); m && m->is_string()) return std::string(m->as_string());
  }
  std::string msg(body.substr(0, 4096));
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
  if (msg.empty()) msg = "HTTP " + std::to_string(http_status) + " with an empty body";
  return msg;
}
}  // namespace

Status StatusFromHttp(int http_status, std::string_view body) {
  StatusCode code = StatusCodeForHttp(http_status);
  if (code == StatusCode::kOk) return Status::Ok();
  if (auto named = CodeFromBody(http_status, body)) code = *named;
  return Status(code, MessageFromBody(http_status, body));
}

Status StatusFromUpstream(int http_status, std::string_view body) {
  StatusCode code = StatusCodeForHttp(http_status);
  if (code == StatusCode::kOk) return Status::Ok();
  // Our own hops say which code they meant; it travels on unchanged.
  if (auto named = CodeFromBody(http_status, body))
    return Status(*named, MessageFromBody(http_status, body));
  if (code == StatusCode::kInternal || code == StatusCode::kUnimplemented) {
    code = StatusCode::kBadGateway;
  }
  return Status(code, MessageFromBody(http_status, body));
}

}  // namespace il
