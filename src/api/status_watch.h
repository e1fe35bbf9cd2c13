// The status-watch extension of the interLink protocol (docs/plugin-protocol.md, "Status
// watch extension v1"): instead of asking for every pod's status on a timer, a caller
// long-polls `GET /status/watch?since=<cursor>&timeout=<s>` and is answered as soon as a
// pod's status changed after `since`, with the UIDs that changed and a new cursor; it
// then asks /status for just those pods. The periodic /status stays as a slow safety net.
//
// StatusChangeLog is the sidecar-side half: a backend calls Notify(uid) from its own
// event source (the mock's timeline, slurm-sd's squeue pass, Docker events) and serves
// WatchStatus (api/backend.h) with Wait(). A cursor is "<epoch>.<seq>": the epoch is
// random per process, so a cursor from before a restart, from another process or older
// than the retained changes answers at once with reset=true (re-read every pod).
//
// The `statuses` feature of v1: a caller that adds `statuses=true` to the request gets
// the changed pods' statuses in the answer too (the same entries /status answers), and
// asks /status only for changed UIDs the answer has no status for. A server that has the
// feature says `"statuses": true` in its advertisement; one without ignores the parameter.
//
// Thread-safety: StatusChangeLog is thread-safe; the rest are plain values.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"
#include "core/mutex.h"
#include "core/status.h"

namespace il::api {

// The capability a plugin (and, relaying it, interLink) advertises in its ping reply.
inline constexpr std::string_view kStatusWatchExtension = "interlink-cpp.io/status-watch";
inline constexpr std::string_view kStatusWatchVersion = "v1";
inline constexpr std::string_view kStatusWatchPath = "/status/watch";
// Longest wait a server grants; longer `timeout`s are shortened to it.
inline constexpr std::chrono::seconds kMaxWatchTimeout{120};

inline constexpr std::string_view kStatusWatchStatusesParam = "statuses";

struct StatusChanges {
  std::string cursor;             // pass as `since` in the next watch
  std::vector<std::string> uids;  // pods whose status changed after `since` (no repeats)
  bool reset = false;             // `since` is unknown here: re-read every pod
  // The `statuses` feature: the statuses of those of `uids` the server knows. Serialized
  // only when `with_statuses` (the caller asked for them).
  std::vector<PodStatus> statuses;
  bool with_statuses = false;
};

boost::json::value ToJson(const StatusChanges& c);
Result<StatusChanges> ParseStatusChanges(const boost::json::value& v);

// Parses the `timeout` query parameter (seconds, a non-negative number; empty = 30 s),
// shortened to kMaxWatchTimeout. kInvalidArgument for anything else.
Result<std::chrono::milliseconds> ParseWatchTimeout(std::string_view s);
// Whether `since` is a well-formed cursor (or empty: "from now", answered with reset).
bool IsWellFormedCursor(std::string_view since);
// Whether a ping reply advertises the extension (version v1).
bool SupportsStatusWatch(const PingResponse& p);
// Whether it also advertises the `statuses` feature.
bool SupportsWatchStatuses(const PingResponse& p);
// The UIDs of `c.uids` that `c.statuses` has no status for (the caller asks /status).
std::vector<std::string> UidsWithoutStatus(const StatusChanges& c);
// The advertisement a server adds to its ping reply.
boost::json::object StatusWatchAdvertisement();

class StatusChangeLog {
 public:
  // Keeps the last `capacity` changes; a cursor older than them is answered with reset.
  explicit StatusChangeLog(size_t capacity = 65536);

  void Notify(const std::string& uid) IL_EXCLUDES(mu_);
  void Notify(const std::vector<std::string>& uids) IL_EXCLUDES(mu_);
  std::string Cursor() const IL_EXCLUDES(mu_);
  // The changes after `since`, without waiting.
  StatusChanges Since(std::string_view since) const IL_EXCLUDES(mu_);
  // Answers at once when something changed after `since` (or it is unknown: reset);
  // otherwise waits up to `timeout` for a change, asking `gone` (may be null) about
  // every 250 ms whether the caller still listens. Answers no UIDs at timeout.
  StatusChanges Wait(std::string_view since, std::chrono::milliseconds timeout,
                     const std::function<bool()>& gone) IL_EXCLUDES(mu_);

 private:
  StatusChanges SinceLocked(std::string_view since) const IL_REQUIRES(mu_);

  const size_t capacity_;
  const std::string epoch_;
  mutable Mutex mu_;
  CondVar cv_;
  uint64_t seq_ IL_GUARDED_BY(mu_) = 0;                                  // of the last change
  std::deque<std::pair<uint64_t, std::string>> log_ IL_GUARDED_BY(mu_);  // (seq, uid)
};

}  // namespace il::api
