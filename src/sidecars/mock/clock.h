// Clock: the time seam of the mock sidecar. Everything the simulated backend does is a
// function of "now", so unit tests drive a FakeClock instead of sleeping; follow-mode
// log streams wait through SleepFor, which a fake turns into a jump of its own time.
//
// Thread-safety: implementations are safe to call from many threads.
#pragma once

#include <chrono>
#include <thread>

#include "core/mutex.h"

namespace il::mock {

class Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  using Duration = std::chrono::system_clock::duration;
  virtual ~Clock() = default;
  virtual TimePoint Now() = 0;
  virtual void SleepFor(Duration d) = 0;
};

class SystemClock : public Clock {
 public:
  TimePoint Now() override { return std::chrono::system_clock::now(); }
  void SleepFor(Duration d) override { std::this_thread::sleep_for(d); }
};

// A clock that only moves when told to, or by the amount a sleeper asks for.
class FakeClock : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000)))
      : now_(start) {}
  TimePoint Now() override {
    MutexLock l(mu_);
    return now_;
  }
  void SleepFor(Duration d) override { Advance(d); }
  void Advance(Duration d) IL_EXCLUDES(mu_) {
    MutexLock l(mu_);
    now_ += d;
  }

 private:
  Mutex mu_;
  TimePoint now_ IL_GUARDED_BY(mu_);
};

}  // namespace il::mock
