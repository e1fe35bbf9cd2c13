#include "vk/work_queue.h"

#include <gtest/gtest.h>

namespace il::vk {
namespace {

TEST(WorkQueue, AKeyWaitsOnceAndGoesToOneWorkerAtATime) {
  WorkQueue q;
  std::stop_source s;
  q.Add("a");
  q.Add("a");
  q.Add("b");
  EXPECT_EQ(q.Len(), 2u);
  auto a = q.Get(s.get_token());
  ASSERT_EQ(*a, "a");
  q.Add("a");  // while processing: not handed out again yet
  auto b = q.Get(s.get_token());
  ASSERT_EQ(*b, "b");
  EXPECT_EQ(q.Len(), 0u);
  q.Done("a");  // re-queued now
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(*q.Get(s.get_token()), "a");
}

TEST(WorkQueue, BackoffDoublesUpToTheCapAndForgetResetsIt) {
  WorkQueue::Options o{std::chrono::milliseconds(100), std::chrono::milliseconds(1000)};
  EXPECT_EQ(WorkQueue::Backoff(o, 1).count(), 100);
  EXPECT_EQ(WorkQueue::Backoff(o, 2).count(), 200);
  EXPECT_EQ(WorkQueue::Backoff(o, 4).count(), 800);
  EXPECT_EQ(WorkQueue::Backoff(o, 10).count(), 1000);
  WorkQueue q(o);
  EXPECT_EQ(q.AddRateLimited("k").count(), 100);
  EXPECT_EQ(q.AddRateLimited("k").count(), 200);
  EXPECT_EQ(q.Failures("k"), 2);
  q.Forget("k");
  EXPECT_EQ(q.Failures("k"), 0);
  EXPECT_EQ(q.Pending(), 2u);  // delayed
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueue, ShutDownReleasesWaitingWorkers) {
  WorkQueue q;
  std::stop_source s;
  q.ShutDown();
  EXPECT_FALSE(q.Get(s.get_token()).has_value());
}

}  // namespace
}  // namespace il::vk
