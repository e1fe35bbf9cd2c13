#include "api/status_watch.h"

#include <gtest/gtest.h>

#include <thread>

namespace il::api {
namespace {

using std::chrono::milliseconds;

TEST(StatusChangeLog, EmptyOrForeignCursorAnswersResetAtOnce) {
  StatusChangeLog log;
  auto c = log.Wait("", milliseconds(10000), nullptr);
  EXPECT_TRUE(c.reset);
  EXPECT_EQ(c.cursor, log.Cursor());
  auto f = log.Wait("0123abcd.0", milliseconds(10000), nullptr);
  EXPECT_TRUE(f.reset);
}

TEST(StatusChangeLog, AnswersTheUidsChangedAfterTheCursorOnce) {
  StatusChangeLog log;
  std::string c0 = log.Cursor();
  log.Notify("a");
  log.Notify(std::vector<std::string>{"b", "a"});
  auto c = log.Since(c0);
  EXPECT_FALSE(c.reset);
  EXPECT_EQ(c.uids.size(), 2u);
  auto again = log.Since(c.cursor);
  EXPECT_FALSE(again.reset);
  EXPECT_TRUE(again.uids.empty());
  EXPECT_EQ(again.cursor, c.cursor);
}

TEST(StatusChangeLog, TimesOutWithNoUidsAndTheSameCursor) {
  StatusChangeLog log;
  std::string c0 = log.Cursor();
  auto c = log.Wait(c0, milliseconds(0), nullptr);
  EXPECT_FALSE(c.reset);
  EXPECT_TRUE(c.uids.empty());
  EXPECT_EQ(c.cursor, c0);
}

TEST(StatusChangeLog, AWaiterWakesOnNotify) {
  StatusChangeLog log;
  std::string c0 = log.Cursor();
  std::thread t([&] { log.Notify("x"); });
  auto c = log.Wait(c0, milliseconds(60000), nullptr);
  t.join();
  ASSERT_EQ(c.uids.size(), 1u);
  EXPECT_EQ(c.uids[0], "x");
}

TEST(StatusChangeLog, AWaiterLeavesWhenTheCallerIsGone) {
  StatusChangeLog log;
  auto c = log.Wait(log.Cursor(), milliseconds(60000), [] { return true; });
  EXPECT_TRUE(c.uids.empty());
}

TEST(StatusChangeLog, ACursorOlderThanTheRetainedChangesResets) {
  StatusChangeLog log(2);
  std::string c0 = log.Cursor();
  log.Notify(std::vector<std::string>{"a", "b", "c"});
  EXPECT_TRUE(log.Since(c0).reset);
  std::string c1 = log.Cursor();
  log.Notify("d");
  EXPECT_FALSE(log.Since(c1).reset);
}

TEST(StatusWatch, ParsesTimeoutsAndCursors) {
  EXPECT_EQ(*ParseWatchTimeout(""), milliseconds(30000));
  EXPECT_EQ(*ParseWatchTimeout("1.5"), milliseconds(1500));
  EXPECT_EQ(*ParseWatchTimeout("99999"),
            std::chrono::duration_cast<milliseconds>(kMaxWatchTimeout));
  for (const char* bad : {"-1", "abc", "1s", "nan", "inf"}) {
    EXPECT_FALSE(ParseWatchTimeout(bad).ok()) << bad;
  }
  EXPECT_TRUE(IsWellFormedCursor(""));
  EXPECT_TRUE(IsWellFormedCursor("ab12.7"));
  for (const char* bad : {"7", ".7", "ab.", "zz.1", "ab.-1", "ab.1x"}) {
    EXPECT_FALSE(IsWellFormedCursor(bad)) << bad;
  }
}

TEST(StatusWatch, RepliesRoundTrip) {
  StatusChanges c;
  c.cursor = "ab.3";
  c.uids = {"u1", "u2"};
  auto back = ParseStatusChanges(ToJson(c));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->cursor, "ab.3");
  EXPECT_EQ(back->uids, c.uids);
  EXPECT_FALSE(back->with_statuses);
  EXPECT_FALSE(ToJson(c).as_object().contains("statuses")) << "only when asked for";
  c.with_statuses = true;
  c.statuses.push_back(PodStatus{});
  c.statuses.back().uid = "u2";
  back = ParseStatusChanges(ToJson(c));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->with_statuses);
  ASSERT_EQ(back->statuses.size(), 1u);
  EXPECT_EQ(back->statuses[0].uid, "u2");
  EXPECT_EQ(UidsWithoutStatus(*back), std::vector<std::string>{"u1"});
  EXPECT_FALSE(ParseStatusChanges(boost::json::value(3)).ok());
  EXPECT_FALSE(
      ParseStatusChanges(boost::json::parse(R"({"cursor":"a.1","uids":[],"statuses":{}})")).ok());
  EXPECT_FALSE(ParseStatusChanges(boost::json::parse(R"({"cursor":"a.1","uids":[1]})")).ok());
}

TEST(StatusWatch, PingAdvertisement) {
  PingResponse p;
  EXPECT_FALSE(SupportsStatusWatch(p));
  p.extensions[kStatusWatchExtension] = boost::json::object{{"version", "v1"}};
  EXPECT_TRUE(SupportsStatusWatch(p));
  EXPECT_FALSE(SupportsWatchStatuses(p));
  p.extensions[kStatusWatchExtension] = StatusWatchAdvertisement();
  EXPECT_TRUE(SupportsWatchStatuses(p));
  p.extensions[kStatusWatchExtension] = boost::json::object{{"version", "v2"}};
  EXPECT_FALSE(SupportsStatusWatch(p));
}

}  // namespace
}  // namespace il::api
