// WatchLoop: the list+watch loop (client-go's Reflector, without the cache).
//
//   1. LIST the collection (paged, ListAll) and hand the full set to on_sync together with
//      the list's resourceVersion. The caller reconciles: anything it knew that is not in
//      the list was deleted while nobody watched.
//   2. WATCH from that resourceVersion (watch=1, allowWatchBookmarks=true, timeoutSeconds)
//      and hand ADDED / MODIFIED / DELETED events to on_event. BOOKMARK events only
//      advance the resourceVersion.
//   3. When the watch ends (server timeout, dropped connection) watch again from the last
//      resourceVersion seen; failures back off exponentially (reset after a watch that
//      delivered events or a clean close).
//   4. On 410 Gone (reply or ERROR event with code 410, "too old resource version") go
//      back to 1 at once; on other errors go back to 1 after the backoff.
//   5. Two backoffs: errors the API server answered (5xx, 429, an ERROR event, a watch
//      closed at once) double up to max_backoff; a server that cannot be reached at all
//      (refused, reset, timed out: nothing to overload) is retried at most every
//      unreachable_max_backoff, and those attempts do not lengthen the other backoff. So
//      after a kube-apiserver restart the watch is back within about that long, not after
//      a backoff grown through the outage (which was 16-20 s after a 10 s outage).
//
// Returns OK when `stop` is requested; returns the last error only when
// `max_consecutive_failures` > 0 and that many attempts in a row failed. Callbacks run on
// the calling thread, one at a time, in stream order.
//
// Thread-safety: runs on the calling thread; request stop from any thread.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "kube/kube_api.h"

namespace il::kube {

struct WatchLoopOptions {
  std::string label_selector;
  std::string field_selector;    // e.g. "spec.nodeName=" + node
  int64_t list_page_size = 500;  // 0 = unpaged list
  int watch_timeout_seconds = 300;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::milliseconds unreachable_max_backoff{2000};
  int max_consecutive_failures = 0;  // 0 = retry forever
  std::shared_ptr<Clock> clock;      // backoff sleeps; null = RealClock()
};

struct WatchHandlers {
  // After every (re)list: all current objects and the list's resourceVersion.
  std::function<void(const std::vector<boost::json::value>& items,
                     const std::string& resource_version)>
      on_sync;
  // ADDED / MODIFIED / DELETED after the sync, in order.
  std::function<void(WatchEventType type, const boost::json::value& object)> on_event;
  // Optional: each failure the loop recovers from (for logs and metrics).
  std::function<void(const Status& error)> on_error;
};

Status WatchLoop(KubeApi& api, const std::string& path, const WatchLoopOptions& options,
                 const WatchHandlers& handlers, std::stop_token stop);

}  // namespace il::kube
