#include "api/log_filter.h"

#include <gtest/gtest.h>

#include "api/pod.h"

namespace il::api {
namespace {

using std::chrono::seconds;

std::vector<LogLine> Lines(std::chrono::system_clock::time_point t0) {
  return {{t0, "one"}, {t0 + seconds(10), "two"}, {t0 + seconds(20), "three"}};
}

TEST(LogFilter, TailSinceTimestampsAndLimit) {
  auto t0 = *ParseRfc3339("2026-01-01T00:00:00Z");
  auto now = t0 + seconds(25);
  ContainerLogOpts o;
  EXPECT_EQ(RenderLogs(Lines(t0), o, now), "one\ntwo\nthree\n");
  o.tail = 2;
  EXPECT_EQ(RenderLogs(Lines(t0), o, now), "two\nthree\n");
  o = {};
  o.since_seconds = 10;
  EXPECT_EQ(RenderLogs(Lines(t0), o, now), "three\n");
  o = {};
  o.since_time = "2026-01-01T00:00:10Z";
  EXPECT_EQ(RenderLogs(Lines(t0), o, now), "two\nthree\n");
  o = {};
  o.timestamps = true;
  o.tail = 1;
  EXPECT_EQ(RenderLogs(Lines(t0), o, now), "2026-01-01T00:00:20.000000000Z three\n");
  o = {};
  o.limit_bytes = 6;
  EXPECT_EQ(RenderLogs(Lines(t0), o, now), "one\ntw");
}

}  // namespace
}  // namespace il::api
