// The one mapping between StatusCode and HTTP responses.
//
// Server side: ErrorBody() renders the JSON error body every listener returns:
//   {"code": 404, "status": "NotFound", "message": "..."}
// Client side: StatusFromHttp() turns a non-2xx reply back into a Status, taking the
// message from our JSON error body, or the raw text of a foreign (upstream) plugin.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace il {

int HttpStatusFor(StatusCode code);
StatusCode StatusCodeForHttp(int http_status);
std::string ErrorBody(const Status& status);
// The Status carried by an HTTP reply with the given code and body (OK for 2xx).
Status StatusFromHttp(int http_status, std::string_view body);
// Same, but for the reply of a next hop (a sidecar): its 5xx become kBadGateway
// (502) unless they say 503/504, so the caller can tell "the plugin failed" from
// "interLink failed"; 4xx keep their code and the plugin's message unchanged.
Status StatusFromUpstream(int http_status, std::string_view body);

}  // namespace il
