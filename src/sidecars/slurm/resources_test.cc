#include "sidecars/slurm/resources.h"

#include <gtest/gtest.h>

#include "api/types.h"

namespace il::slurm {
namespace {

boost::json::value Pod(const std::string& json) { return *api::ParseJson(json); }

TEST(Quantity, ParsesCpu) {
  EXPECT_EQ(*ParseCpuMillis("2"), 2000);
  EXPECT_EQ(*ParseCpuMillis("500m"), 500);
  EXPECT_EQ(*ParseCpuMillis("1.5"), 1500);
  EXPECT_EQ(*ParseCpuMillis("0.1"), 100);
  EXPECT_FALSE(ParseCpuMillis("lots").ok());
  EXPECT_FALSE(ParseCpuMillis("").ok());
  EXPECT_FALSE(ParseCpuMillis("-1").ok());
}

TEST(Quantity, ParsesMemory) {
  EXPECT_EQ(*ParseBytes("1Gi"), 1073741824);
  EXPECT_EQ(*ParseBytes("512Mi"), 536870912);
  EXPECT_EQ(*ParseBytes("1G"), 1000000000);
  EXPECT_EQ(*ParseBytes("1e9"), 1000000000);
  EXPECT_EQ(*ParseBytes("100"), 100);
  EXPECT_EQ(*ParseBytes("1.5Ki"), 1536);
  EXPECT_FALSE(ParseBytes("1Qi").ok());
  EXPECT_EQ(BytesToMiB(1), 1);
  EXPECT_EQ(BytesToMiB(1048576), 1);
  EXPECT_EQ(BytesToMiB(1048577), 2);
  EXPECT_EQ(MillisToCpus(1), 1);
  EXPECT_EQ(MillisToCpus(2001), 3);
}

TEST(PodResources, SumsAppContainersAndTakesMaxWithInit) {
  auto r = ComputePodResources(Pod(R"({"spec":{
    "initContainers":[{"name":"i","resources":{"limits":{"cpu":"4","memory":"1Gi"}}}],
    "containers":[{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi","nvidia.com/gpu":"1"}}},
                  {"name":"b","resources":{"requests":{"cpu":"500m","memory":"2Gi"}}}]}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->cpu_millis, 4000);
  EXPECT_EQ(*r->memory_bytes, 3LL << 30);
  EXPECT_EQ(*r->gpus, 1);
}

TEST(PodResources, NothingSetGivesNothing) {
  auto r = ComputePodResources(Pod(R"({"spec":{"containers":[{"name":"a"}]}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->cpu_millis);
  EXPECT_FALSE(r->memory_bytes);
  EXPECT_FALSE(r->gpus);
}

TEST(PodResources, BadQuantityNamesTheContainer) {
  auto r = ComputePodResources(
      Pod(R"({"spec":{"containers":[{"name":"web","resources":{"limits":{"memory":"lots"}}}]}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("web"), std::string::npos);
}

}  // namespace
}  // namespace il::slurm
