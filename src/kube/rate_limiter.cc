#include "kube/rate_limiter.h"

#include <algorithm>

namespace il::kube {

RateLimiter::RateLimiter(double qps, int burst, std::shared_ptr<Clock> clock)
    : qps_(qps),
      burst_(std::max(burst, 1)),
      clock_(clock ? std::move(clock) : RealClock()),
      tokens_(burst_),
      last_(clock_->Now()) {}

void RateLimiter::RefillLocked(Clock::TimePoint now) {
  if (now > last_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min<double>(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
}

Clock::Duration RateLimiter::Reserve() {
  MutexLock lock(mu_);
  RefillLocked(clock_->Now());
  // Tokens may go negative: each waiter owns the slot it will use once refilled.
  tokens_ -= 1;
  if (tokens_ >= 0) return Clock::Duration::zero();
  return std::chrono::duration_cast<Clock::Duration>(
      std::chrono::duration<double>(-tokens_ / qps_));
}

void RateLimiter::Refund() {
  MutexLock lock(mu_);
  tokens_ = std::min<double>(burst_, tokens_ + 1);
}

void RateLimiter::Acquire() { (void)Acquire(std::stop_token{}); }

bool RateLimiter::Acquire(const std::stop_token& stop) {
  if (qps_ <= 0) return !stop.stop_requested();
  auto wait = Reserve();
  if (wait == Clock::Duration::zero()) return true;
  if (clock_->SleepFor(wait, stop)) return true;
  Refund();
  return false;
}

bool RateLimiter::TryAcquire() {
  if (qps_ <= 0) return true;
  MutexLock lock(mu_);
  RefillLocked(clock_->Now());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace il::kube
