#include "interlink/status_cache.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <thread>

#include "testing/fake_backend.h"

namespace il::interlink {
namespace {
namespace json = boost::json;

json::value Pod(const std::string& uid, const std::string& restart_policy = "Never") {
  json::value p{{"metadata", {{"name", "p" + uid}, {"namespace", "default"}, {"uid", uid}}}};
  if (!restart_policy.empty()) p.as_object()["spec"] = {{"restartPolicy", restart_policy}};
  return p;
}

TEST(StatusCache, AsksTheSidecarOnceForAllNonFinalPods) {
  api::FakeBackend b;
  for (int i = 0; i < 100; ++i) b.created[std::to_string(i)] = {};
  StatusCache c(b);
  std::vector<json::value> pods;
  for (int i = 0; i < 100; ++i) pods.push_back(Pod(std::to_string(i)));
  auto r = c.GetStatus({}, pods);
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
  ASSERT_TRUE(c.GetStatus({}, {Pod("a"), Pod("b")}).ok());
  ASSERT_TRUE(c.GetStatus({}, {Pod("a"), Pod("b")}).ok());
  EXPECT_EQ(b.status_calls, 2);
  EXPECT_EQ(b.last_status_batch, 1u) << "only the running pod is asked again";
  ASSERT_TRUE(c.GetStatus({}, {Pod("a")}).ok());
  EXPECT_EQ(b.status_calls, 2) << "final pod alone needs no sidecar call";
  c.Invalidate({"a"});
  ASSERT_TRUE(c.GetStatus({}, {Pod("a")}).ok());
  EXPECT_EQ(b.status_calls, 3);
}

TEST(StatusCache, AWatchRelaysAndDropsTheEntriesItNames) {
  api::FakeBackend b;
  b.watch = true;
  b.created["a"] = {};
  b.created["b"] = {};
  b.states["a"] = 0;
  b.states["b"] = 0;
  StatusCache c(b);
  EXPECT_TRUE(c.SupportsStatusWatch());
  ASSERT_TRUE(c.GetStatus({}, {Pod("a"), Pod("b")}).ok());
  EXPECT_EQ(c.size(), 2u);
  std::string cursor = b.changes.Cursor();
  b.changes.Notify("a");
  auto w = c.WatchStatus({}, cursor, std::chrono::seconds(5), nullptr);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->uids, std::vector<std::string>{"a"});
  EXPECT_EQ(c.size(), 1u) << "the changed pod is asked again, not answered from the cache";
  auto reset = c.WatchStatus({}, "", std::chrono::seconds(5), nullptr);
  ASSERT_TRUE(reset.ok());
  EXPECT_TRUE(reset->reset);
  EXPECT_EQ(c.size(), 0u);
  api::FakeBackend plain;
  StatusCache without(plain);
  EXPECT_FALSE(without.SupportsStatusWatch());
}

TEST(StatusCache, StatusesAWatchCarriesAreCachedExceptForDeletedPods) {
  api::FakeBackend b;
  b.created["a"] = {};
  b.created["b"] = {};
  b.states["a"] = 0;
  b.states["b"] = 0;
  // The next hop answers a watch with statuses (the `statuses` feature), as the plugin
  // client does from a plugin that has it.
  class WithStatuses : public api::FakeBackend {
   public:
    explicit WithStatuses(api::FakeBackend& inner) : inner_(inner) { watch = true; }
    Result<api::StatusChanges> WatchStatus(const api::CallContext& ctx, const std::string&,
                                           std::chrono::milliseconds,
                                           const std::function<bool()>&) override {
      api::StatusChanges c;
      c.cursor = "ab.2";
      c.uids = {"a", "b"};
      std::vector<json::value> pods{Pod("a"), Pod("b")};
      auto st = inner_.GetStatus(ctx, pods);
      if (!st.ok()) return st.status();
      c.statuses = std::move(*st);
      c.statuses.push_back(c.statuses.front());  // a status for a pod it does not name
      c.statuses.back().uid = "z";
      c.with_statuses = true;
      return c;
    }
    Result<std::vector<api::PodStatus>> GetStatus(const api::CallContext& ctx,
                                                  const std::vector<json::value>& pods) override {
      return inner_.GetStatus(ctx, pods);
    }
    Status Delete(const api::CallContext& ctx, const json::value& pod) override {
      return inner_.Delete(ctx, pod);
    }

   private:
    api::FakeBackend& inner_;
  } next(b);
  StatusCache c(next);
  ASSERT_TRUE(c.Delete({}, Pod("b")).ok());
  b.created["b"] = {};  // a status answered for b after its delete (still in flight)
  b.states["b"] = 0;
  auto w = c.WatchStatus({}, "ab.1", std::chrono::seconds(5), nullptr);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->statuses.size(), 3u) << "relayed as they came";
  EXPECT_EQ(c.size(), 1u) << "a is cached; deleted b and unnamed z are not";
  const int calls = b.status_calls;
  auto r = c.GetStatus({}, {Pod("a")});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(b.status_calls, calls) << "a's final status came with the watch";
}

TEST(StatusCache, EndedContainersThatWillRestartAreNeverServedFromCache) {
  // docker-sd restarts a container killed by its liveness probe (Always): a poll that saw it
  // terminated in between must not freeze the pod's status (restartCount stayed 0 for good).
  api::FakeBackend b;
  for (const char* uid : {"always", "default", "onfailure-ok"}) {
    b.created[uid] = {};
    b.states[uid] = 0;  // terminated, exit 0
  }
  StatusCache c(b);
  std::vector<json::value> pods = {Pod("always", "Always"), Pod("default", ""),
                                   Pod("onfailure-ok", "OnFailure")};
  ASSERT_TRUE(c.GetStatus({}, pods).ok());
  ASSERT_TRUE(c.GetStatus({}, pods).ok());
  EXPECT_EQ(b.status_calls, 2);
  EXPECT_EQ(b.last_status_batch, 2u) << "Always (also when absent) is asked again; OnFailure "
                                        "with every exit code 0 is final";
}

TEST(StatusCache, EmptyRequestReturnsEverythingCached) {
  api::FakeBackend b;
  b.created["a"] = {};
  StatusCache c(b);
  ASSERT_TRUE(c.GetStatus({}, {Pod("a")}).ok());
  auto all = c.GetStatus({}, {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST(StatusCache, PodsTheSidecarForgotAreNotAnsweredFromStaleEntries) {
  api::FakeBackend b;
  b.created["a"] = {};
  StatusCache c(b);
  ASSERT_EQ(c.GetStatus({}, {Pod("a")})->size(), 1u);
  b.created.erase("a");
  EXPECT_EQ(c.GetStatus({}, {Pod("a")})->size(), 0u);
}

TEST(StatusCache, SidecarErrorsPropagate) {
  api::FakeBackend b;
  b.status_error = Status(StatusCode::kUnavailable, "sidecar down");
  StatusCache c(b);
  auto r = c.GetStatus({}, {Pod("a")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST(StatusCache, ADeleteDuringAnInFlightStatusIsNotUndone) {
  // /status for pod a is at the sidecar when /delete for a lands; its reply must not
  // put a back into the cache, or every later "all pods" answer would list it.
  api::FakeBackend b;
  b.created["a"] = {};
  StatusCache c(b);
  std::mutex m;
  std::condition_variable cv;
  bool at_sidecar = false, release = false;
  b.on_status = [&] {
    std::unique_lock l(m);
    at_sidecar = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
  };
  std::thread status([&] {
    auto r = c.GetStatus({}, {Pod("a")});
    EXPECT_TRUE(r.ok());
  });
  {
    std::unique_lock l(m);
    cv.wait(l, [&] { return at_sidecar; });
  }
  ASSERT_TRUE(c.Delete({}, Pod("a")).ok());
  b.created["a"] = {};  // the in-flight reply still reports the pod
  {
    std::lock_guard l(m);
    release = true;
  }
  cv.notify_all();
  status.join();
  auto all = c.GetStatus({}, {});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty()) << "the deleted pod came back from the in-flight reply";
  EXPECT_EQ(c.size(), 0u);
}

TEST(StatusCache, ACreateLiftsTheTombstone) {
  api::FakeBackend b;
  StatusCache c(b);
  b.created["a"] = {};
  ASSERT_TRUE(c.Delete({}, Pod("a")).ok());
  api::RetrievedPodData d;
  d.pod = Pod("a");
  ASSERT_TRUE(c.Create({}, d).ok());
  ASSERT_EQ(c.GetStatus({}, {Pod("a")})->size(), 1u);
  EXPECT_EQ(c.size(), 1u);
}

}  // namespace
}  // namespace il::interlink
