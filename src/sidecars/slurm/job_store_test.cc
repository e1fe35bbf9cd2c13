#include "sidecars/slurm/job_store.h"

#include <gtest/gtest.h>

#include "testing/assert_ok.h"
#include "testing/temp_dir.h"

namespace il::slurm {
namespace {

PodRecord Rec(const std::string& uid) {
  PodRecord r;
  r.uid = uid;
  r.ns = "default";
  r.name = "p-" + uid;
  r.dir = "/tmp/x/" + uid;
  r.containers = {{"i", "img", true}, {"a", "img2", false}};
  r.job.job_id = "12";
  r.job.state = JobState::kTimeout;
  r.job.reason = "TimeLimit";
  r.job.exit_code = 0;
  r.job.signal = 15;
  r.job.start = TimePoint(std::chrono::seconds(1800000000));
  r.created = TimePoint(std::chrono::seconds(1800000000));
  return r;
}

TEST(JobStore, StoresAndReloadsRecords) {
  testing::TempDir dir("slurm-store");
  const std::string path = dir.File("state.db");
  {
    auto s = JobStore::Open(path);
    ASSERT_OK(s);
    ASSERT_OK((*s)->Put(Rec("a")));
    ASSERT_OK((*s)->Put(Rec("b")));
    auto b = Rec("b");
    b.job.state = JobState::kLost;
    ASSERT_OK((*s)->Put(b));  // replaces
    ASSERT_OK((*s)->Remove("a"));
    ASSERT_OK((*s)->Remove("missing"));
  }
  auto s = JobStore::Open(path);
  ASSERT_OK(s);
  auto all = (*s)->LoadAll();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  const auto& r = (*all)[0];
  EXPECT_EQ(r.uid, "b");
  EXPECT_EQ(r.job.state, JobState::kLost);
  EXPECT_EQ(r.job.signal, 15);
  EXPECT_EQ(r.job.start, Rec("b").job.start);
  EXPECT_FALSE(r.job.end.has_value());
  ASSERT_EQ(r.containers.size(), 2u);
  EXPECT_TRUE(r.containers[0].init);
  EXPECT_EQ(r.containers[1].image, "img2");
}

TEST(JobStore, OpenFailsClearlyOnABadPath) {
  auto s = JobStore::Open("/nonexistent-dir/x/state.db");
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace il::slurm
