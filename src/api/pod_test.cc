#include "api/pod.h"

#include <gtest/gtest.h>

namespace il::api {
namespace {

TEST(Rfc3339, FormatsAndParsesBackIncludingFractionsAndOffsets) {
  auto t = ParseRfc3339("2026-11-24T10:20:30Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(Rfc3339(*t), "2026-11-24T10:20:30Z");
  auto f = ParseRfc3339("2026-11-24T10:20:30.123456789Z");
  ASSERT_TRUE(f);
  EXPECT_EQ(Rfc3339Nano(*f), "2026-11-24T10:20:30.123456789Z");
  auto o = ParseRfc3339("2026-11-24T12:20:30+02:00");
  ASSERT_TRUE(o);
  EXPECT_EQ(Rfc3339(*o), "2026-11-24T10:20:30Z");
  EXPECT_FALSE(ParseRfc3339("2026-11-24 10:20:30"));
  EXPECT_FALSE(ParseRfc3339("2026-13-24T10:20:30Z"));
  EXPECT_FALSE(ParseRfc3339("2026-11-24T10:20:30Zjunk"));
  // Outside what system_clock's int64 nanoseconds hold: rejected, not overflowed.
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(ParseRfc3339("0001-01-01T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-11-24T-1:20:30Z"));
  auto late = ParseRfc3339("2261-12-31T23:59:59Z");
  ASSERT_TRUE(late);
  EXPECT_EQ(Rfc3339(*late), "2261-12-31T23:59:59Z");
}

TEST(PodView, ReadsFieldsWithDefaults) {
  json::value pod = {{"metadata", {{"name", "p"}, {"annotations", {{"k", "v"}}}}},
                     {"spec", {{"terminationGracePeriodSeconds", 7}}}};
  EXPECT_EQ(PodName(pod), "p");
  EXPECT_EQ(PodNamespace(pod), "");
  EXPECT_EQ(*Annotation(pod, "k"), "v");
  EXPECT_FALSE(Annotation(pod, "x"));
  EXPECT_TRUE(Containers(pod).empty());
  EXPECT_EQ(GracePeriodSeconds(pod), 7);
}

TEST(ContainerStatus, TerminatedCarriesExitCodeAndDefaultReason) {
  auto now = std::chrono::system_clock::now();
  auto s = TerminatedStatus("c", "img", 3, "", "", now, now);
  EXPECT_EQ(GetInt(s, {"state", "terminated", "exitCode"}), 3);
  EXPECT_EQ(GetString(s, {"state", "terminated", "reason"}), "Error");
  auto k = TerminatedStatus("c", "img", 137, "OOMKilled", "", now, now);
  EXPECT_EQ(GetString(k, {"state", "terminated", "reason"}), "OOMKilled");
}

}  // namespace
}  // namespace il::api
