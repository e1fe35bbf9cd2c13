#include "interlink/status_cache.h"

#include <gtest/gtest.h>

#include "api/fake_backend.h"

namespace il::interlink {
namespace {
namespace json = boost::json;

json::value Pod(const std::string& uid) {
  return json::value{{"metadata", {{"name", "p" + uid}, {"namespace", "default"}, {"uid", uid}}}};
}

TEST(StatusCache, AsksTheSidecarOnceForAllNonFinalPods) {
  api::FakeBackend b;
  for (int i = 0; i < 100; ++i) b.created[std::to_string(i)] = {};
  StatusCache c(b);
  std::vector<json::value> pods;
  for (int i = 0; i < 100; ++i) pods.push_back(Pod(std::to_string(i)));
  auto r = c.Get({}, pods);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 100u);
  EXPECT_EQ(b.status_calls, 1);
  EXPECT_EQ(b.last_status_batch, 100u);
}

TEST(StatusCache, FinalPodsAreServedFromCacheUntilInvalidated) {
  api::FakeBackend b;
  b.created["a"] = {};
  b.created["b"] = {};
  b.states["a"] = 0;  // terminated
  StatusCache c(b);
  ASSERT_TRUE(c.Get({}, {Pod("a"), Pod("b")}).ok());
  ASSERT_TRUE(c.Get({}, {Pod("a"), Pod("b")}).ok());
  EXPECT_EQ(b.status_calls, 2);
  EXPECT_EQ(b.last_status_batch, 1u) << "only the running pod is asked again";
  ASSERT_TRUE(c.Get({}, {Pod("a")}).ok());
  EXPECT_EQ(b.status_calls, 2) << "final pod alone needs no sidecar call";
  c.Invalidate("a");
  ASSERT_TRUE(c.Get({}, {Pod("a")}).ok());
  EXPECT_EQ(b.status_calls, 3);
}

TEST(StatusCache, EmptyRequestReturnsEverythingCached) {
  api::FakeBackend b;
  b.created["a"] = {};
  StatusCache c(b);
  ASSERT_TRUE(c.Get({}, {Pod("a")}).ok());
  auto all = c.Get({}, {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST(StatusCache, PodsTheSidecarForgotAreNotAnsweredFromStaleEntries) {
  api::FakeBackend b;
  b.created["a"] = {};
  StatusCache c(b);
  ASSERT_EQ(c.Get({}, {Pod("a")})->size(), 1u);
  b.created.erase("a");
  EXPECT_EQ(c.Get({}, {Pod("a")})->size(), 0u);
}

TEST(StatusCache, SidecarErrorsPropagate) {
  api::FakeBackend b;
  b.status_error = Status(StatusCode::kUnavailable, "sidecar down");
  StatusCache c(b);
  auto r = c.Get({}, {Pod("a")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace il::interlink
