// FakeClock: a manual clock for tests. SleepFor advances virtual time immediately and
// records the requested durations, so code with backoff runs instantly and the test can
// assert on the delays it asked for.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <mutex>
#include <vector>

#include "kube/clock.h"

namespace il::kube {

class FakeClock : public Clock {
 public:
  TimePoint Now() override {
    std::lock_guard lock(mu_);
    return now_;
  }
  bool SleepFor(Duration d, const std::stop_token& stop = {}) override {
    std::lock_guard lock(mu_);
    if (stop.stop_requested()) return false;
    sleeps_.push_back(d);
    if (d > Duration::zero()) now_ += d;
    return true;
  }
  void Advance(Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  std::vector<Duration> sleeps() {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

 private:
  std::mutex mu_;
  TimePoint now_{std::chrono::hours(1)};
  std::vector<Duration> sleeps_;
};

}  // namespace il::kube
