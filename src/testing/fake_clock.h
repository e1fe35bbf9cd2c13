// FakeClock: a manual Clock for tests. Time moves only by Advance or by the amount a
// sleeper asks for: SleepFor advances virtual time at once and records the requested
// duration, so code with backoff or polling runs instantly and the test can assert on
// the delays it asked for. Steady and wall time move together.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <stop_token>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"

namespace il::testing {

class FakeClock : public Clock {
 public:
  // Steady time starts at one hour (so "now - 1h" is still a valid time point); wall time
  // at `wall_start` (2023-11-14 by default: fixed, so timestamps in goldens are stable).
  explicit FakeClock(WallTimePoint wall_start = WallTimePoint(std::chrono::seconds(1'700'000'000)))
      : wall_(wall_start) {}

  TimePoint Now() override IL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return now_;
  }
  WallTimePoint WallNow() override IL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return wall_;
  }
  bool SleepFor(Duration d, const std::stop_token& stop = {}) override IL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (stop.stop_requested()) return false;
    sleeps_.push_back(d);
    if (d > Duration::zero()) AdvanceLocked(d);
    return true;
  }
  void Advance(Duration d) IL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    AdvanceLocked(d);
  }
  // Every duration passed to SleepFor, in order.
  std::vector<Duration> sleeps() IL_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return sleeps_;
  }

 private:
  void AdvanceLocked(Duration d) IL_REQUIRES(mu_) {
    now_ += d;
    wall_ += std::chrono::duration_cast<WallTimePoint::duration>(d);
  }

  Mutex mu_;
  TimePoint now_ IL_GUARDED_BY(mu_){std::chrono::hours(1)};
  WallTimePoint wall_ IL_GUARDED_BY(mu_);
  std::vector<Duration> sleeps_ IL_GUARDED_BY(mu_);
};

}  // namespace il::testing
