#include "core/clock.h"

#include <condition_variable>
#include <mutex>

namespace il {
namespace {

class SystemClock : public Clock {
 public:
  TimePoint Now() override { return std::chrono::steady_clock::now(); }
  WallTimePoint WallNow() override { return std::chrono::system_clock::now(); }
  bool SleepFor(Duration d, const std::stop_token& stop) override {
    if (stop.stop_requested()) return false;
    if (d <= Duration::zero()) return true;
    // Only an interruptible sleep: guards nothing, and il::CondVar has no stop_token wait.
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    cv.wait_for(lock, stop, d, [] { return false; });
    return !stop.stop_requested();
  }
};

}  // namespace

std::shared_ptr<Clock> RealClock() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SystemClock>();
  return clock;
}

}  // namespace il
