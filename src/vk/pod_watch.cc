// PodController's status watch (see pod_controller.h and api/status_watch.h): a long
// poll of interLink's /status/watch whose answer carries the changed pods' statuses (or,
// from a server without that feature, is followed by one /status call for the pods it
// names), with the periodic full round kept as a slow safety net.
#include <map>
#include <string_view>

#include "api/pod.h"
#include "core/log.h"
#include "vk/pod_controller.h"

namespace il::vk {

namespace {
std::shared_ptr<spdlog::logger> Log() {
  static auto l = log::Logger("vk.pods");
  return l;
}
constexpr std::chrono::milliseconds kMaxWatchRetry{30000};
}  // namespace

void PodController::RequestFullSync() {
  full_sync_due_ = true;
  MutexLock l(mu_);
  cv_.NotifyAll();
}

Status PodController::SyncChanged(const api::StatusChanges& c) {
  std::vector<std::string> asked;
  for (const auto& uid : c.uids) {
    auto r = store_.Get(uid);
    if (!r || r->api_deleted) continue;
    if (r->backend != BackendState::kCreating && r->backend != BackendState::kCreated) continue;
    asked.push_back(uid);
  }
  if (asked.empty()) return Status::Ok();
  // The `statuses` feature: the answer carries the changed pods' statuses; /status is
  // asked only for those it has none for (all of them from a server without it).
  std::vector<api::PodStatus> pushed;
  std::vector<std::string> ask;
  if (c.with_statuses) {
    std::map<std::string_view, const api::PodStatus*> by_uid;
    for (const auto& s : c.statuses) by_uid.emplace(s.uid, &s);
    for (const auto& uid : asked) {
      auto it = by_uid.find(uid);
      if (it == by_uid.end()) {
        ask.push_back(uid);
      } else {
        pushed.push_back(*it->second);
      }
    }
  } else {
    ask = std::move(asked);
  }
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> changed = store_.ApplyReports(pushed, now);
  stats_.watch_statuses += pushed.size();
  Status result = Status::Ok();
  if (!ask.empty()) {
    ++stats_.watch_status_calls;
    auto reports = interlink_.GetStatus(store_.StatusQuery(ask));
    if (reports.ok()) {
      auto more = store_.ApplyReports(*reports, now);
      changed.insert(changed.end(), more.begin(), more.end());
    } else {
      ++stats_.status_call_failures;
      result = reports.status();
    }
  }
  for (const auto& uid : changed) queue_.AddUrgent(uid);  // before the creates and deletes
  return result;
}

std::chrono::milliseconds PodController::WatchOnce(const std::stop_token& stop) {
  using std::chrono::milliseconds;
  if (!watch_supported_) {
    PingResult ping = interlink_.Ping();
    watch_supported_ = ping.response && api::SupportsStatusWatch(*ping.response);
    if (!watch_supported_) return opt_.watch_probe_interval;
    watch_cursor_.clear();
  }
  ++stats_.watch_calls;
  const auto started = std::chrono::steady_clock::now();
  auto c = interlink_.WatchStatus(watch_cursor_, opt_.watch_timeout,
                                  [&stop] { return stop.stop_requested(); });
  if (stop.stop_requested()) return milliseconds(0);
  if (!c.ok()) {
    if (watching_.exchange(false)) {
      Log()->warn("status watch failed, polling every {} ms until it works again: {}",
                  opt_.status_interval.count(), c.status().ToString());
      RequestFullSync();  // changes since the last good answer may be missed
    }
    const auto code = c.status().code();
    if (code == StatusCode::kNotFound || code == StatusCode::kUnimplemented) {
      watch_supported_ = false;  // e.g. the plugin behind interLink was replaced
      return opt_.watch_probe_interval;
    }
    watch_cursor_.clear();
    auto wait = watch_retry_;
    watch_retry_ = std::min(watch_retry_ * 2, kMaxWatchRetry);
    return wait;
  }
  watch_retry_ = milliseconds(1000);
  if (!watching_.exchange(true)) {
    Log()->info("status watch active: changes arrive as they happen; full /status every {} ms",
                opt_.status_safety_interval.count());
  }
  watch_cursor_ = c->cursor;
  if (c->reset) {
    RequestFullSync();
  } else if (!c->uids.empty()) {
    ++stats_.watch_wakes;
    if (Status st = SyncChanged(*c); !st.ok()) {
      Log()->debug("status of {} changed pods: {}", c->uids.size(), st.ToString());
      RequestFullSync();
    }
  }
  const auto since = std::chrono::steady_clock::now() - started;
  if (since >= opt_.watch_min_interval) return milliseconds(0);
  return std::chrono::ceil<milliseconds>(opt_.watch_min_interval - since);
}

void PodController::WatchLoop(const std::stop_token& stop) {
  {
    MutexLock l(mu_);
    while (!stop.stop_requested() && !(synced_ && adopted_)) {
      if (!cv_.Wait(mu_, stop)) break;
    }
  }
  while (!stop.stop_requested()) {
    auto wait = WatchOnce(stop);
    if (wait.count() == 0) continue;
    MutexLock l(mu_);
    const auto until = std::chrono::steady_clock::now() + wait;
    while (!stop.stop_requested()) {
      if (!cv_.WaitUntil(mu_, stop, until)) break;
    }
  }
  watching_ = false;
}

}  // namespace il::vk
