// SlurmBackend: the status watch (see slurm_backend.h). Changes are found by the same
// squeue refresh and job-file reads a /status call does, run in the background only while
// someone watches, and compared with the previous pass by a hash of each pod's status.
#include <functional>

#include "api/pod.h"
#include "sidecars/slurm/slurm_backend.h"

namespace il::slurm {

namespace {
int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Result<api::StatusChanges> SlurmBackend::WatchStatus(const api::CallContext&,
                                                     const std::string& since,
                                                     std::chrono::milliseconds timeout,
                                                     const std::function<bool()>& gone) {
  const bool was_idle = last_watch_ns_.exchange(SteadyNs()) == 0;
  if (was_idle) {
    MutexLock l(pass_mu_);
    pass_cv_.NotifyAll();
  }
  return changes_.Wait(since, timeout, gone);
}

void SlurmBackend::ChangePass() {
  Refresh(false);
  std::vector<PodRecord> live;
  std::vector<std::string> finished;  // final statuses: checked once more, then never
  {
    MutexLock l(mu_);
    live.reserve(pods_.size());
    for (const auto& [uid, r] : pods_) {
      if (final_.count(uid)) {
        finished.push_back(uid);
      } else {
        live.push_back(r);
      }
    }
  }
  std::map<std::string, size_t> now;
  for (const auto& r : live) {
    now[r.uid] = std::hash<std::string>{}(boost::json::serialize(api::ToJson(StatusOf(r))));
  }
  std::vector<std::string> changed;
  {
    MutexLock l(fingerprint_mu_);
    for (const auto& uid : finished) {
      if (auto it = fingerprints_.find(uid); it != fingerprints_.end()) now[uid] = it->second;
    }
    for (const auto& [uid, fp] : now) {
      auto it = fingerprints_.find(uid);
      if (it == fingerprints_.end() || it->second != fp) changed.push_back(uid);
    }
    for (const auto& [uid, fp] : fingerprints_) {
      if (!now.count(uid)) changed.push_back(uid);  // deleted
    }
    fingerprints_ = std::move(now);
  }
  changes_.Notify(changed);
}

void SlurmBackend::WatchPassLoop(const std::stop_token& stop) {
  // A watch answers within kMaxWatchTimeout; twice that without one: nobody watches.
  const int64_t idle_after = std::chrono::nanoseconds(2 * api::kMaxWatchTimeout).count();
  const auto period = std::max<std::chrono::milliseconds>(
      std::chrono::milliseconds(1000),
      std::chrono::milliseconds(static_cast<int64_t>(cfg_.status_cache_seconds * 1000)));
  while (!stop.stop_requested()) {
    const int64_t last = last_watch_ns_.load();
    const bool watched = last != 0 && SteadyNs() - last < idle_after;
    if (watched) {
      ChangePass();
    } else if (last != 0) {
      int64_t expected = last;  // a watch that came meanwhile keeps its time
      last_watch_ns_.compare_exchange_strong(expected, 0);
    }
    MutexLock l(pass_mu_);
    if (watched) {
      pass_cv_.WaitFor(pass_mu_, stop, period);
    } else if (last_watch_ns_.load() == 0) {
      pass_cv_.Wait(pass_mu_, stop);  // until a watch arrives (WatchStatus notifies)
    }
  }
}

}  // namespace il::slurm
