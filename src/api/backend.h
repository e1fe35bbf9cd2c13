// Backend: the contract every sidecar implements, and that interLink's plugin client
// implements on the other side of the wire (style rule 3).
//
// create, delete, status, logs, ping. Methods are blocking and may be called from many
// threads at once; implementations must be thread-safe. Errors are Status values whose
// codes map to HTTP (core/http_status.h), so a sidecar's NotFound reaches the VK as 404
// and a backend rejection's message arrives unchanged.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/status_watch.h"
#include "api/types.h"
#include "core/status.h"

namespace il::api {

// Per-call context carried across hops.
struct CallContext {
  std::string session;  // InterLink-Http-Session
};

// Where GetLogs writes. Write returns false when the reader has gone away; follow-mode
// producers must also poll Gone() while idle and stop when it turns true.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual bool Write(std::string_view chunk) = 0;
  virtual bool Gone() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Starts the pod. Idempotent per pod UID: a second create of a known UID returns the
  // existing job id and starts nothing new.
  virtual Result<CreateResult> Create(const CallContext& ctx, const RetrievedPodData& data) = 0;
  // Stops and removes everything of the pod. Unknown pod -> kNotFound.
  virtual Status Delete(const CallContext& ctx, const json::value& pod) = 0;
  // Statuses of the given pods, in one batched backend query. Pods the backend does not
  // know are left out of the result.
  virtual Result<std::vector<PodStatus>> GetStatus(const CallContext& ctx,
                                                   const std::vector<json::value>& pods) = 0;
  // Writes the container's log to `sink`, honouring tail/since/timestamps/limit/follow.
  // An error is returned only if nothing was written yet (unknown pod or container).
  virtual Status GetLogs(const CallContext& ctx, const LogRequest& request, LogSink& sink) = 0;
  // Health and capacity of the backend.
  virtual Result<PingResponse> Ping(const CallContext& ctx) = 0;

  // The status-watch extension (api/status_watch.h), optional: a backend that knows when
  // its pods' statuses change overrides both; the others (and every upstream plugin)
  // keep being polled. WatchStatus answers the UIDs changed after `since` as soon as
  // there are any, or none at `timeout`; `gone` tells that the caller left. Such a
  // backend's GetStatus must answer pods given by UID alone ({"metadata":{"uid":...}}):
  // that is how protocol::Server adds the statuses of the changed pods to the answer.
  virtual bool SupportsStatusWatch() { return false; }
  virtual Result<StatusChanges> WatchStatus(const CallContext& ctx, const std::string& since,
                                            std::chrono::milliseconds timeout,
                                            const std::function<bool()>& gone) {
    (void)ctx, (void)since, (void)timeout, (void)gone;
    return Status(StatusCode::kUnimplemented, "this backend has no status watch");
  }
};

}  // namespace il::api
