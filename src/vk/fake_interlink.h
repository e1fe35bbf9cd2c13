// FakeInterlink: an in-memory InterlinkApi for unit tests of the controllers. Pods sent to
// Create are "in the backend" and report whatever the test sets with SetStatus; every call
// is recorded; errors can be injected per operation.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <map>
#include <mutex>

#include "api/pod.h"
#include "vk/interlink_client.h"

namespace il::vk {

class FakeInterlink : public InterlinkApi {
 public:
  Result<api::CreateResult> Create(const api::PodCreateRequests& r) override {
    std::lock_guard l(mu);
    creates.push_back(r);
    if (!create_error.ok()) return create_error;
    std::string uid = api::PodUid(r.pod);
    if (!backend.count(uid)) backend[uid] = Entry{r.pod, "job-" + std::to_string(++next_job), {}};
    return api::CreateResult{uid, backend[uid].jid};
  }
  Status Delete(const boost::json::value& pod) override {
    std::lock_guard l(mu);
    deletes.push_back(pod);
    if (!delete_error.ok()) return delete_error;
    if (!backend.erase(api::PodUid(pod))) return NotFound("unknown pod");
    return Status::Ok();
  }
  Result<std::vector<api::PodStatus>> GetStatus(
      const std::vector<boost::json::value>& pods) override {
    std::lock_guard l(mu);
    status_calls.push_back(pods);
    if (!status_error.ok()) return status_error;
    std::vector<api::PodStatus> out;
    auto add = [&](const std::string& uid, const Entry& e) { out.push_back(StatusOf(uid, e)); };
    if (pods.empty()) {
      for (const auto& [uid, e] : backend) add(uid, e);
    }
    for (const auto& p : pods) {
      auto it = backend.find(api::PodUid(p));
      if (it != backend.end()) add(it->first, it->second);
    }
    return out;
  }
  Status GetLogs(const api::LogRequest& r, const std::function<bool(std::string_view)>& on_data,
                 const std::function<bool()>&) override {
    {
      std::lock_guard l(mu);
      log_requests.push_back(r);
    }
    if (!logs_error.ok()) return logs_error;
    on_data(logs);
    return Status::Ok();
  }
  PingResult Ping() override {
    std::lock_guard l(mu);
    ++pings;
    return ping;
  }

  // The status watch: answers from `changes` when `watch` is set (SetStatus notifies it).
  Result<api::StatusChanges> WatchStatus(const std::string& since,
                                         std::chrono::milliseconds timeout,
                                         const std::function<bool()>& cancelled) override {
    {
      std::lock_guard l(mu);
      ++watch_calls;
      if (!watch) return InterlinkApi::WatchStatus(since, timeout, cancelled);
      if (!watch_error.ok()) return watch_error;
    }
    auto c = changes.Wait(since, timeout, cancelled);
    std::lock_guard l(mu);
    if (watch_statuses) {  // the `statuses` feature, without counting a /status call
      c.with_statuses = true;
      for (const auto& uid : c.uids) {
        if (auto it = backend.find(uid); it != backend.end()) {
          c.statuses.push_back(StatusOf(uid, it->second));
        }
      }
    }
    return c;
  }
  // Makes the ping advertise the watch and turns it on.
  void EnableWatch() {
    std::lock_guard l(mu);
    watch = true;
    api::PingResponse p;
    p.status = "ok";
    p.extensions[api::kStatusWatchExtension] = api::StatusWatchAdvertisement();
    ping.response = p;
  }

  // Puts a pod in the backend as if created earlier (e.g. before a VK restart).
  void Seed(const boost::json::value& pod, const std::string& jid) {
    std::lock_guard l(mu);
    backend[api::PodUid(pod)] = Entry{pod, jid, {}};
  }
  void SetStatus(const std::string& uid, boost::json::array containers,
                 boost::json::array init = {}) {
    std::lock_guard l(mu);
    backend[uid].status.containers = std::move(containers);
    backend[uid].status.init_containers = std::move(init);
    if (watch) changes.Notify(uid);
  }

  void SetEvents(const std::string& uid, boost::json::array events) {
    std::lock_guard l(mu);
    backend[uid].status.events = std::move(events);
  }

  struct Entry {
    boost::json::value pod;
    std::string jid;
    api::PodStatus status;
  };
  static api::PodStatus StatusOf(const std::string& uid, const Entry& e) {
    api::PodStatus s = e.status;
    s.uid = uid;
    s.name = api::PodName(e.pod);
    s.ns = api::PodNamespace(e.pod);
    s.jid = e.jid;
    return s;
  }
  std::mutex mu;
  std::map<std::string, Entry> backend;
  int next_job = 0;
  std::vector<api::PodCreateRequests> creates;
  std::vector<boost::json::value> deletes;
  std::vector<std::vector<boost::json::value>> status_calls;
  std::vector<api::LogRequest> log_requests;
  int pings = 0;
  bool watch = false;
  bool watch_statuses = false;  // answers carry the statuses (set after EnableWatch)
  int watch_calls = 0;
  Status watch_error;
  api::StatusChangeLog changes;
  Status create_error, delete_error, status_error, logs_error;
  std::string logs = "line 1\nline 2\n";
  PingResult ping{200, R"({"status":"ok"})", Status::Ok(), std::nullopt};
};

}  // namespace il::vk
