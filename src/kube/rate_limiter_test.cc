#include "kube/rate_limiter.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace il::kube {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

TEST(RateLimiter, BurstPassesThenPacesAtQps) {
  auto clock = std::make_shared<testing::FakeClock>();
  RateLimiter rl(10, 3, clock);
  for (int i = 0; i < 3; ++i) rl.Acquire();
  EXPECT_TRUE(clock->sleeps().empty());
  rl.Acquire();  // 4th: waits one refill interval (100ms), advancing the fake clock
  rl.Acquire();
  auto sleeps = clock->sleeps();
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_NEAR(duration_cast<milliseconds>(sleeps[0]).count(), 100, 1);
  EXPECT_NEAR(duration_cast<milliseconds>(sleeps[1]).count(), 100, 1);
}

TEST(RateLimiter, RefillsWhileIdleUpToBurst) {
  auto clock = std::make_shared<testing::FakeClock>();
  RateLimiter rl(2, 2, clock);
  EXPECT_TRUE(rl.TryAcquire());
  EXPECT_TRUE(rl.TryAcquire());
  EXPECT_FALSE(rl.TryAcquire());
  clock->Advance(std::chrono::seconds(10));  // would be 20 tokens; capped at burst
  EXPECT_TRUE(rl.TryAcquire());
  EXPECT_TRUE(rl.TryAcquire());
  EXPECT_FALSE(rl.TryAcquire());
}

TEST(RateLimiter, ZeroQpsMeansUnlimited) {
  auto clock = std::make_shared<testing::FakeClock>();
  RateLimiter rl(0, 1, clock);
  for (int i = 0; i < 1000; ++i) rl.Acquire();
  EXPECT_TRUE(clock->sleeps().empty());
}

TEST(RateLimiter, StoppedWaiterGetsNoToken) {
  auto clock = std::make_shared<testing::FakeClock>();
  RateLimiter rl(1, 1, clock);
  rl.Acquire();
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(rl.Acquire(stop.get_token()));
}

TEST(RateLimiter, RealClockWaitIsShortForHighQps) {
  RateLimiter rl(1000, 1);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) rl.Acquire();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, milliseconds(3));
  EXPECT_LT(took, milliseconds(500));
}

}  // namespace
}  // namespace il::kube
