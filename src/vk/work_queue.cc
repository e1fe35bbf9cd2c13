#include "vk/work_queue.h"

#include <algorithm>

namespace il::vk {

std::chrono::milliseconds WorkQueue::Backoff(const Options& o, int n) {
  double d = static_cast<double>(o.base_delay.count());
  for (int i = 1; i < n && d < o.max_delay.count(); ++i) d *= 2;
  return std::chrono::milliseconds(
      static_cast<long long>(std::min<double>(d, static_cast<double>(o.max_delay.count()))));
}

void WorkQueue::AddLocked(const std::string& key, bool urgent) {
  if (shutdown_) return;
  if (dirty_.count(key)) {
    if (!urgent || !urgent_.insert(key).second) return;
    if (processing_.count(key)) return;  // Done re-queues it in the urgent lane
    // Waiting in the other lane (dirty, not being processed): move it.
    if (auto it = std::find(queue_.begin(), queue_.end(), key); it != queue_.end()) {
      queue_.erase(it);
    }
    urgent_queue_.push_back(key);
    return;
  }
  dirty_.insert(key);
  if (urgent) urgent_.insert(key);
  if (processing_.count(key)) return;  // re-queued by Done
  (urgent ? urgent_queue_ : queue_).push_back(key);
  cv_.NotifyOne();
}

void WorkQueue::Add(const std::string& key) {
  MutexLock l(mu_);
  AddLocked(key, false);
}

void WorkQueue::AddUrgent(const std::string& key) {
  MutexLock l(mu_);
  AddLocked(key, true);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  if (delay.count() <= 0) return Add(key);
  MutexLock l(mu_);
  if (shutdown_) return;
  const Clock::TimePoint at = clock_->Now() + delay;
  const bool earliest = delayed_.empty() || at < delayed_.top().first;
  delayed_.emplace(at, key);
  // One idle worker keeps the timer (Get); wake one only when the timer must move earlier
  // or nobody keeps it. Waking them all here cost a wake-up per idle worker per pod.
  if (earliest || timed_waiters_ == 0) cv_.NotifyOne();
}

std::chrono::milliseconds WorkQueue::AddRateLimited(const std::string& key) {
  std::chrono::milliseconds d;
  {
    MutexLock l(mu_);
    d = Backoff(opt_, ++failures_[key]);
  }
  AddAfter(key, d);
  return d;
}

void WorkQueue::Forget(const std::string& key) {
  MutexLock l(mu_);
  failures_.erase(key);
}

int WorkQueue::Failures(const std::string& key) {
  MutexLock l(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteLocked(Clock::TimePoint now) {
  while (!delayed_.empty() && delayed_.top().first <= now) {
    std::string key = delayed_.top().second;
    delayed_.pop();
    AddLocked(key, false);
  }
}

std::optional<std::string> WorkQueue::Get(const std::stop_token& stop) {
  MutexLock l(mu_);
  while (true) {
    if (shutdown_ || stop.stop_requested()) return std::nullopt;
    PromoteLocked(clock_->Now());
    if (ReadyLocked()) {
      auto& lane = urgent_queue_.empty() ? queue_ : urgent_queue_;
      std::string key = std::move(lane.front());
      lane.pop_front();
      dirty_.erase(key);
      urgent_.erase(key);
      processing_.insert(key);
      // This worker may have kept the timer (woken by an Add, say): hand it on. (A key it
      // promoted already woke one through AddLocked.)
      if (!delayed_.empty() && timed_waiters_ == 0) cv_.NotifyOne();
      return key;
    }
    if (delayed_.empty()) {
      while (!shutdown_ && !ReadyLocked() && delayed_.empty()) {
        if (!cv_.Wait(mu_, stop)) break;
      }
    } else {
      // Until the earliest delay runs out on clock_ (measured again after each wake-up),
      // an Add, an earlier AddAfter, ShutDown or `stop`.
      const Clock::TimePoint until = delayed_.top().first;
      ++timed_waiters_;
      while (!shutdown_ && !ReadyLocked() && !(!delayed_.empty() && delayed_.top().first < until)) {
        const Clock::Duration left = until - clock_->Now();
        if (left <= Clock::Duration::zero() || !cv_.WaitFor(mu_, stop, left)) break;
      }
      --timed_waiters_;
    }
  }
}

void WorkQueue::Done(const std::string& key) {
  MutexLock l(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    (urgent_.count(key) ? urgent_queue_ : queue_).push_back(key);
    cv_.NotifyOne();
  }
}

void WorkQueue::ShutDown() {
  MutexLock l(mu_);
  shutdown_ = true;
  cv_.NotifyAll();
}

size_t WorkQueue::Len() {
  MutexLock l(mu_);
  return queue_.size() + urgent_queue_.size();
}

size_t WorkQueue::Pending() {
  MutexLock l(mu_);
  return queue_.size() + urgent_queue_.size() + delayed_.size() + processing_.size();
}

}  // namespace il::vk
