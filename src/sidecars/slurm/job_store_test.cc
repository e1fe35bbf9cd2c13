#include "sidecars/slurm/job_store.h"

#include <gtest/gtest.h>

#include <filesystem>

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
  auto path = std::filesystem::temp_directory_path() /
              ("slurm-store-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  {
    auto s = JobStore::Open(path.string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->Put(Rec("a")).ok());
    ASSERT_TRUE((*s)->Put(Rec("b")).ok());
    auto b = Rec("b");
    b.job.state = JobState::kLost;
    ASSERT_TRUE((*s)->Put(b).ok());  // replaces
    ASSERT_TRUE((*s)->Remove("a").ok());
    ASSERT_TRUE((*s)->Remove("missing").ok());
  }
  auto s = JobStore::Open(path.string());
  ASSERT_TRUE(s.ok());
  auto all = (*s)->LoadAll();
  ASSERT_TRUE(all.ok());
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
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

TEST(JobStore, OpenFailsClearlyOnABadPath) {
  auto s = JobStore::Open("/nonexistent-dir/x/state.db");
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace il::slurm
