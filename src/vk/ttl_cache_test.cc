#include "vk/ttl_cache.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace il::vk {
namespace {
using std::chrono::seconds;

TEST(TtlCache, EntriesExpireAfterTheirOwnTtl) {
  auto clock = std::make_shared<testing::FakeClock>();
  TtlCache<int> c(10, clock);
  c.Put("long", 1, seconds(300));
  c.Put("short", 2, seconds(30));
  c.Put("never", 3, seconds(0));  // zero ttl: not stored
  EXPECT_EQ(c.Get("long"), 1);
  EXPECT_EQ(c.Get("short"), 2);
  EXPECT_EQ(c.Get("never"), std::nullopt);
  clock->Advance(seconds(30));
  EXPECT_EQ(c.Get("short"), std::nullopt);
  EXPECT_EQ(c.Get("long"), 1);
  EXPECT_EQ(c.size(), 1u);
  clock->Advance(seconds(270));
  EXPECT_EQ(c.Get("long"), std::nullopt);
}

TEST(TtlCache, IsBoundedAndDropsTheLeastRecentlyUsed) {
  auto clock = std::make_shared<testing::FakeClock>();
  TtlCache<int> c(2, clock);
  c.Put("a", 1, seconds(60));
  c.Put("b", 2, seconds(60));
  EXPECT_EQ(c.Get("a"), 1);  // a is now the most recent
  c.Put("c", 3, seconds(60));
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.Get("b"), std::nullopt);
  EXPECT_EQ(c.Get("a"), 1);
  EXPECT_EQ(c.Get("c"), 3);
  c.Put("a", 4, seconds(60));  // replacing does not grow it
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.Get("a"), 4);
}

}  // namespace
}  // namespace il::vk
