// Clock: the one time seam of the project. Steady time (Now) for timeouts, backoff, rate
// limits and caches; wall time (WallNow) for what a user or the API sees (creation times,
// simulated timelines); SleepFor for waits that a stop request cuts short.
//
// Production code uses RealClock(); tests inject testing::FakeClock (testing/fake_clock.h),
// whose SleepFor advances virtual time at once, so retry, backoff and polling paths run
// without sleeping.
//
// Thread-safety: implementations must be thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>

namespace il {

class Clock {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;
  using WallTimePoint = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  // Monotonic time: for intervals, never shown to anyone.
  virtual TimePoint Now() = 0;
  // Calendar time: for timestamps that leave the process.
  virtual WallTimePoint WallNow() = 0;
  // Sleeps for `d` or until `stop` is requested. Returns false when stopped early.
  virtual bool SleepFor(Duration d, const std::stop_token& stop = {}) = 0;
};

// The process-wide real clock (steady_clock, system_clock); SleepFor wakes promptly on a
// stop request.
std::shared_ptr<Clock> RealClock();

}  // namespace il
