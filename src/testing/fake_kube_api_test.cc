#include "testing/fake_kube_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "kube/api_error.h"
#include "kube/json_patch.h"
#include "kube/paths.h"
#include "kube/watch_loop.h"
#include "testing/fake_clock.h"

namespace il::kube {
namespace {
namespace json = boost::json;

json::value Pod(const std::string& name, const std::string& node) {
  return json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                     R"(","labels":{"app":"x"}},"spec":{"nodeName":")" + node +
                     R"("},"status":{"phase":"Pending"}})");
}

TEST(FakeKubeApi, CreateGetUpdateWithOptimisticConcurrency) {
  FakeKubeApi api;
  auto created = api.Create(PodsPath("ns"), Pod("p", "vk"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->at("metadata").at("namespace").as_string(), "ns");
  EXPECT_FALSE(created->at("metadata").at("uid").as_string().empty());
  EXPECT_TRUE(IsAlreadyExists(api.Create(PodsPath("ns"), Pod("p", "vk")).status()));
  auto got = api.Get(PodPath("ns", "p"));
  ASSERT_TRUE(got.ok());
  json::value v = *got;
  v.as_object()["spec"].as_object()["x"] = 1;
  ASSERT_TRUE(api.Update(PodPath("ns", "p"), v).ok());
  EXPECT_TRUE(IsConflict(api.Update(PodPath("ns", "p"), v).status()));  // stale now
  EXPECT_TRUE(IsNotFound(api.Get(PodPath("ns", "q")).status()));
}

TEST(FakeKubeApi, StatusPatchTouchesOnlyStatus) {
  FakeKubeApi api;
  api.Seed(PodPath("ns", "p"), Pod("p", "vk"));
  auto r = api.Patch(PodStatusPath("ns", "p"), PatchType::kMerge,
                     json::parse(R"({"status":{"phase":"Running"},"spec":{"nodeName":"other"}})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto obj = api.Object(PodPath("ns", "p"));
  EXPECT_EQ(obj->at("status").at("phase").as_string(), "Running");
  EXPECT_EQ(obj->at("spec").at("nodeName").as_string(), "vk");
  ASSERT_EQ(api.calls("PATCH").size(), 1u);
  EXPECT_EQ(api.calls("PATCH")[0].path, PodStatusPath("ns", "p"));
}

TEST(FakeKubeApi, BoundPodDeleteIsGracefulUntilGraceZeroWithUid) {
  FakeKubeApi api;
  auto pod = api.Seed(PodPath("ns", "p"), Pod("p", "vk"));
  ASSERT_TRUE(api.Delete(PodPath("ns", "p")).ok());
  auto obj = api.Object(PodPath("ns", "p"));
  ASSERT_TRUE(obj);
  EXPECT_TRUE(obj->at("metadata").as_object().contains("deletionTimestamp"));
  DeleteOptions wrong;
  wrong.grace_period_seconds = 0;
  wrong.precondition_uid = "nope";
  EXPECT_TRUE(IsConflict(api.Delete(PodPath("ns", "p"), wrong).status()));
  DeleteOptions right = wrong;
  right.precondition_uid = std::string(pod.at("metadata").at("uid").as_string());
  ASSERT_TRUE(api.Delete(PodPath("ns", "p"), right).ok());
  EXPECT_FALSE(api.Object(PodPath("ns", "p")));
}

TEST(FakeKubeApi, ListFiltersBySelectorsAcrossNamespaces) {
  FakeKubeApi api;
  api.Seed(PodPath("a", "p1"), Pod("p1", "vk"));
  api.Seed(PodPath("b", "p2"), Pod("p2", "other"));
  api.Seed(ConfigMapPath("a", "cm"), json::object{});
  ListOptions lo;
  lo.field_selector = "spec.nodeName=vk";
  auto l = api.List(PodsPath(""), lo);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->at("items").as_array().size(), 1u);
  EXPECT_EQ(api.List(PodsPath("b"))->at("items").as_array().size(), 1u);
  lo = {};
  lo.label_selector = "app=x,tier!=db";
  EXPECT_EQ(api.List(PodsPath(""), lo)->at("items").as_array().size(), 2u);
}

TEST(FakeKubeApi, TokenRequestNeedsTheServiceAccount) {
  FakeKubeApi api;
  json::value req = json::parse(R"({"spec":{"audiences":["x"],"expirationSeconds":600}})");
  EXPECT_TRUE(IsNotFound(api.Create(ServiceAccountTokenPath("ns", "default"), req).status()));
  api.Seed(ServiceAccountPath("ns", "default"), json::object{});
  auto r = api.Create(ServiceAccountTokenPath("ns", "default"), req);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->at("status").at("token").as_string().empty());
}

TEST(FakeKubeApi, InjectedFailuresAreReturnedOnce) {
  FakeKubeApi api;
  api.Seed(NodePath("vk"), json::object{});
  api.FailNext("GET", NodePath("vk"), Unavailable("down"));
  EXPECT_EQ(api.Get(NodePath("vk")).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(api.Get(NodePath("vk")).ok());
}

TEST(FakeKubeApi, WatchLoopSeesEventsAndRelistsAfterCompaction) {
  FakeKubeApi api;
  api.Seed(PodPath("ns", "a"), Pod("a", "vk"));
  api.Seed(PodPath("ns", "other"), Pod("other", "elsewhere"));
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> seen;
  auto add = [&](std::string s) {
    std::lock_guard lock(mu);
    seen.push_back(std::move(s));
    cv.notify_all();
  };
  auto wait_for = [&](size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return seen.size() >= n; });
  };
  WatchHandlers h;
  h.on_sync = [&](const std::vector<json::value>& items, const std::string&) {
    add("sync " + std::to_string(items.size()));
  };
  h.on_event = [&](WatchEventType t, const json::value& o) {
    add(std::string(WatchEventTypeName(t)) + " " +
        std::string(o.at("metadata").at("name").as_string()));
  };
  WatchLoopOptions o;
  o.field_selector = "spec.nodeName=vk";
  o.clock = std::make_shared<testing::FakeClock>();
  std::stop_source stop;
  std::thread loop([&] { (void)WatchLoop(api, PodsPath(""), o, h, stop.get_token()); });
  ASSERT_TRUE(wait_for(1));
  ASSERT_TRUE(api.Create(PodsPath("ns"), Pod("b", "vk")).ok());
  ASSERT_TRUE(api.Create(PodsPath("ns"), Pod("c", "elsewhere")).ok());
  ASSERT_TRUE(wait_for(2));
  // Drop the stream and expire its resourceVersion: the loop relists.
  api.Compact();
  api.CloseWatches();
  ASSERT_TRUE(wait_for(3));
  DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(api.Delete(PodPath("ns", "a"), now).ok());
  ASSERT_TRUE(wait_for(4));
  stop.request_stop();
  loop.join();
  EXPECT_EQ(seen, (std::vector<std::string>{"sync 1", "ADDED b", "sync 2", "DELETED a"}));
}

TEST(JsonPatch, AppliesRfc6902OperationsAndMergePatch) {
  json::value v = json::parse(R"({"a":{"b":[1,2]},"c":1})");
  ASSERT_TRUE(ApplyJsonPatch(v, json::parse(R"([{"op":"add","path":"/a/b/-","value":3},
      {"op":"replace","path":"/c","value":2},{"op":"remove","path":"/a/b/0"},
      {"op":"add","path":"/d~1e","value":true},{"op":"test","path":"/c","value":2}])"))
                  .ok());
  EXPECT_EQ(v, json::parse(R"({"a":{"b":[2,3]},"c":2,"d/e":true})"));
  EXPECT_FALSE(ApplyJsonPatch(v, json::parse(R"([{"op":"replace","path":"/zz","value":1}])")).ok());
  EXPECT_FALSE(ApplyJsonPatch(v, json::parse(R"([{"op":"test","path":"/c","value":9}])")).ok());
  ApplyMergePatch(v, json::parse(R"({"a":null,"c":{"x":1}})"));
  EXPECT_EQ(v, json::parse(R"({"c":{"x":1},"d/e":true})"));
}

}  // namespace
}  // namespace il::kube
