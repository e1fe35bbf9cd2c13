// FakeBackend: an in-memory Backend for unit tests; records calls, returns canned
// results or injected errors.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>

#include "api/backend.h"
#include "api/pod.h"

namespace il::api {

class FakeBackend : public Backend {
 public:
  Result<CreateResult> Create(const CallContext& ctx, const RetrievedPodData& d) override {
    std::lock_guard l(mu);
    sessions.push_back(ctx.session);
    ++create_calls;
    if (!create_error.ok()) return create_error;
    std::string uid = PodUid(d.pod);
    created[uid] = d;
    return CreateResult{uid, "job-" + uid};
  }
  Status Delete(const CallContext&, const json::value& pod) override {
    std::lock_guard l(mu);
    ++delete_calls;
    if (!delete_error.ok()) return delete_error;
    if (!created.erase(PodUid(pod))) return NotFound("pod " + PodUid(pod) + " is unknown");
    return Status::Ok();
  }
  Result<std::vector<PodStatus>> GetStatus(const CallContext&,
                                           const std::vector<json::value>& pods) override {
    if (on_status) on_status();  // outside the lock: tests use it to interleave calls
    std::lock_guard l(mu);
    ++status_calls;
    last_status_batch = pods.size();
    if (!status_error.ok()) return status_error;
    std::vector<PodStatus> out;
    for (const auto& p : pods) {
      std::string uid = PodUid(p);
      if (!created.count(uid)) continue;
      PodStatus s{PodName(p), uid, PodNamespace(p), "job-" + uid, {}, {}, nullptr, {}};
      auto it = states.find(uid);
      auto now = std::chrono::system_clock::now();
      if (it != states.end() && it->second >= 0) {
        s.containers.push_back(TerminatedStatus("c", "img", it->second, "", "", now, now));
      } else {
        s.containers.push_back(RunningStatus("c", "img", now));
      }
      out.push_back(std::move(s));
    }
    return out;
  }
  Status GetLogs(const CallContext&, const LogRequest& r, LogSink& sink) override {
    {
      std::lock_guard l(mu);
      if (!created.count(r.pod_uid)) return NotFound("pod " + r.pod_uid + " is unknown");
    }
    for (const auto& line : log_lines) {
      if (!sink.Write(line)) break;
    }
    return Status::Ok();
  }
  Result<PingResponse> Ping(const CallContext&) override {
    std::lock_guard l(mu);
    if (!ping_error.ok()) return ping_error;
    PingResponse p;
    p.status = "ok";
    p.resources = json::object{{"cpu", "8"}, {"memory", "16Gi"}, {"pods", "100"}};
    return p;
  }

  // The status watch, when `watch` is set: tests Notify `changes`.
  bool SupportsStatusWatch() override { return watch; }
  Result<StatusChanges> WatchStatus(const CallContext& ctx, const std::string& since,
                                    std::chrono::milliseconds timeout,
                                    const std::function<bool()>& gone) override {
    if (!watch) return Backend::WatchStatus(ctx, since, timeout, gone);
    ++watch_calls;
    return changes.Wait(since, timeout, gone);
  }

  bool watch = false;
  StatusChangeLog changes;
  std::atomic<int> watch_calls{0};
  std::mutex mu;
  int create_calls = 0, delete_calls = 0, status_calls = 0;
  size_t last_status_batch = 0;
  std::vector<std::string> sessions;
  std::map<std::string, RetrievedPodData> created;
  std::map<std::string, int> states;  // uid -> exit code (terminated) or -1 running
  std::vector<std::string> log_lines{"line 1\n", "line 2\n"};
  Status create_error, status_error, ping_error, delete_error;
  std::function<void()> on_status;
};

}  // namespace il::api
