// WorkQueue: a keyed work queue in the style of client-go's workqueue, for the pod
// controller's workers.
//
//   - a key waits in the queue at most once (Add of a queued key is a no-op);
//   - a key is handed to one worker at a time; an Add while it is being processed
//     re-queues it when the worker calls Done;
//   - AddAfter delays a key; AddRateLimited delays it by a per-key exponential backoff
//     (base_delay * 2^failures, capped at max_delay) that Forget resets;
//   - AddUrgent puts a key in a lane that Get empties first (the pod controller's status
//     changes, which would otherwise wait behind a burst of creates and deletes). A key
//     already waiting in the other lane moves over; one being processed is re-queued
//     there when the worker calls Done. Within a lane keys keep their order.
//
// Delays are measured on the injected Clock (core/clock.h; RealClock() by default). With
// testing::FakeClock, Advance the clock and then Get: a delayed key whose time has come is
// handed out at once. (A Get already blocked on a delayed key looks at the clock again
// after the remaining delay in real time, or when a key is added.)
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"

namespace il::vk {

class WorkQueue {
 public:
  struct Options {
    std::chrono::milliseconds base_delay{100};
    std::chrono::milliseconds max_delay{30000};
  };
  WorkQueue() : WorkQueue(Options{}) {}
  // `clock` measures the delays; null means RealClock().
  explicit WorkQueue(Options options, std::shared_ptr<Clock> clock = nullptr)
      : opt_(options), clock_(clock ? std::move(clock) : RealClock()) {}

  void Add(const std::string& key) IL_EXCLUDES(mu_);
  void AddUrgent(const std::string& key) IL_EXCLUDES(mu_);
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // Returns the delay chosen.
  std::chrono::milliseconds AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  int Failures(const std::string& key);

  // Blocks until a key is ready; nullopt after ShutDown or when `stop` is requested.
  std::optional<std::string> Get(const std::stop_token& stop);
  void Done(const std::string& key) IL_EXCLUDES(mu_);
  void ShutDown();

  size_t Len();      // ready keys (both lanes)
  size_t Pending();  // ready + delayed + processing

  // The backoff for the n-th consecutive failure (n >= 1).
  static std::chrono::milliseconds Backoff(const Options& o, int n);

 private:
  void AddLocked(const std::string& key, bool urgent) IL_REQUIRES(mu_);
  bool ReadyLocked() const IL_REQUIRES(mu_) { return !queue_.empty() || !urgent_queue_.empty(); }
  void PromoteLocked(Clock::TimePoint now) IL_REQUIRES(mu_);

  const Options opt_;
  const std::shared_ptr<Clock> clock_;
  Mutex mu_;
  CondVar cv_;
  std::deque<std::string> queue_ IL_GUARDED_BY(mu_);
  std::deque<std::string> urgent_queue_ IL_GUARDED_BY(mu_);
  std::set<std::string> dirty_ IL_GUARDED_BY(mu_);   // waiting (or to be re-queued by Done)
  std::set<std::string> urgent_ IL_GUARDED_BY(mu_);  // those of dirty_ in the urgent lane
  std::set<std::string> processing_ IL_GUARDED_BY(mu_);
  using Delayed = std::pair<Clock::TimePoint, std::string>;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed_ IL_GUARDED_BY(mu_);
  std::map<std::string, int> failures_ IL_GUARDED_BY(mu_);
  bool shutdown_ IL_GUARDED_BY(mu_) = false;
  int timed_waiters_ IL_GUARDED_BY(mu_) = 0;  // Gets waiting for the earliest delayed key
};

}  // namespace il::vk
