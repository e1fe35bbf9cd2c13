// Clock: the time seam of the Kubernetes client (rate limiter, retry backoff, watch
// reconnect backoff, token-file reload).
//
// Production code uses RealClock(); tests inject a FakeClock (kube/fake_clock.h) whose
// SleepFor advances virtual time at once, so retry and backoff paths run without sleeps.
//
// Thread-safety: implementations must be thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>

namespace il::kube {

class Clock {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual TimePoint Now() = 0;
  // Sleeps for `d` or until `stop` is requested. Returns false when stopped early.
  virtual bool SleepFor(Duration d, const std::stop_token& stop = {}) = 0;
};

// The process-wide steady clock; SleepFor wakes promptly on a stop request.
std::shared_ptr<Clock> RealClock();

}  // namespace il::kube
