// StatusCache: the Backend wrapper that answers interLink /status for many pods with at
// most one call to the next Backend (the plugin client).
//
// Pods whose last known state is final (every container terminated, and the pod's
// restartPolicy as sent in the query will not restart any: Never, or OnFailure with every
// exit code 0; absent means Always) are answered from the cache; all others, and pods never seen,
// go to the sidecar in ONE batched call. Entries are dropped on create, delete and /updateCache. An
// empty request returns every cached entry, as upstream does.
//
// A delete leaves a tombstone for the pod's UID: a /status reply that was already in
// flight when the delete landed must not re-insert the pod (later answers would keep
// returning a deleted pod). A new create of the same UID lifts it.
//
// The status watch (api/status_watch.h) is relayed to the next Backend: interLink serves
// /status/watch, and its ping relays the plugin's advertisement, so the vk uses it only
// when the plugin has it (a plugin without it answers 404). The UIDs a watch names are
// dropped from the cache (all entries on a reset), so the vk's next /status asks the
// plugin about them; the statuses the plugin sent with them (the `statuses` feature)
// take their place, as a /status answer would.
//
// Thread-safety: thread-safe; calls to the next Backend run outside the lock.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "api/backend.h"
#include "core/mutex.h"

namespace il::interlink {

class StatusCache : public api::Backend {
 public:
  explicit StatusCache(api::Backend& next) : next_(next) {}

  Result<api::CreateResult> Create(const api::CallContext& ctx,
                                   const api::RetrievedPodData& data) override;
  Status Delete(const api::CallContext& ctx, const boost::json::value& pod) override;
  Result<std::vector<api::PodStatus>> GetStatus(
      const api::CallContext& ctx, const std::vector<boost::json::value>& pods) override;
  Status GetLogs(const api::CallContext& ctx, const api::LogRequest& request,
                 api::LogSink& sink) override {
    return next_.GetLogs(ctx, request, sink);
  }
  Result<api::PingResponse> Ping(const api::CallContext& ctx) override { return next_.Ping(ctx); }
  bool SupportsStatusWatch() override { return next_.SupportsStatusWatch(); }
  Result<api::StatusChanges> WatchStatus(const api::CallContext& ctx, const std::string& since,
                                         std::chrono::milliseconds timeout,
                                         const std::function<bool()>& gone) override;

  // /updateCache: drops the named entries (all of them for an empty list).
  void Invalidate(const std::vector<std::string>& uids) IL_EXCLUDES(mu_);
  size_t size() const IL_EXCLUDES(mu_);

  // True when every container and init container of `s` has terminated.
  static bool IsFinal(const api::PodStatus& s, const boost::json::value& pod);

 private:
  void Tombstone(const std::string& uid) IL_REQUIRES(mu_);

  api::Backend& next_;
  mutable Mutex mu_;
  std::map<std::string, api::PodStatus> entries_ IL_GUARDED_BY(mu_);
  std::map<std::string, std::chrono::steady_clock::time_point> deleted_ IL_GUARDED_BY(mu_);
};

}  // namespace il::interlink
