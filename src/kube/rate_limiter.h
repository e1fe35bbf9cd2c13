// RateLimiter: the client-side token bucket in front of every API-server request, like
// client-go's QPS/Burst. The bucket holds up to `burst` tokens and refills at `qps` per
// second; Acquire() takes one token, blocking until it is available.
//
// Waiters reserve their token under the lock and sleep outside it, so callers are served
// in arrival order and a burst of waiters does not stampede. qps <= 0 disables limiting.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <memory>
#include <stop_token>

#include "core/clock.h"
#include "core/mutex.h"

namespace il::kube {

class RateLimiter {
 public:
  // burst < 1 is treated as 1. A null clock means RealClock().
  RateLimiter(double qps, int burst, std::shared_ptr<Clock> clock = nullptr);

  // Blocks until a token is available.
  void Acquire();
  // Same, but gives up when `stop` is requested; returns false then (no token taken).
  bool Acquire(const std::stop_token& stop);
  // Takes a token if one is available now.
  bool TryAcquire() IL_EXCLUDES(mu_);

  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  // Reserves one token; returns how long the caller must wait before using it.
  Clock::Duration Reserve() IL_EXCLUDES(mu_);
  void Refund() IL_EXCLUDES(mu_);
  void RefillLocked(Clock::TimePoint now) IL_REQUIRES(mu_);

  const double qps_;
  const int burst_;
  const std::shared_ptr<Clock> clock_;
  Mutex mu_;
  double tokens_ IL_GUARDED_BY(mu_);
  Clock::TimePoint last_ IL_GUARDED_BY(mu_);
};

}  // namespace il::kube
