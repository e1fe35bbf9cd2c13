#include "vk/pod_store.h"

#include <gtest/gtest.h>

#include "api/pod.h"
#include "kube/watch_decoder.h"

namespace il::vk {
namespace {
namespace json = boost::json;

json::value Pod(const std::string& uid, const std::string& phase = "Pending") {
  return json::parse(R"({"metadata":{"name":"p-)" + uid + R"(","namespace":"ns","uid":")" + uid +
                     R"(","resourceVersion":"1","annotations":{"a":"b",
                        "kubectl.kubernetes.io/last-applied-configuration":"{huge}"}},
      "spec":{"nodeName":"vk","containers":[{"name":"c","image":"i","env":[{"name":"X","value":"1"}]}]},
      "status":{"phase":")" +
                     phase + R"("}})");
}

TEST(PodStore, StatusRoundAsksOnlyForPodsInTheBackendThatAreNotFinished) {
  PodStore s;
  s.Upsert(Pod("a"));
  s.Upsert(Pod("b"));
  s.Upsert(Pod("c", "Succeeded"));
  for (const char* uid : {"a", "c"}) {
    s.Update(uid, [](PodRecord& r) { r.backend = BackendState::kCreated; });
  }
  size_t n = 0;
  auto body = json::parse(s.BeginStatusRound(1, &n));
  ASSERT_EQ(n, 1u);
  const auto& pod = body.as_array()[0];
  EXPECT_EQ(api::PodUid(pod), "a");
  EXPECT_EQ(api::GetString(pod, {"status", "phase"}), "Pending");
  EXPECT_EQ(api::Find(pod, {"spec", "containers"})->as_array()[0].as_object().size(),
            2u);  // name, image
  EXPECT_FALSE(api::Annotation(pod, "kubectl.kubernetes.io/last-applied-configuration"));
}

TEST(PodStore, TheEchoOfTheVersionHeldIsNoChange) {
  PodStore s;
  ASSERT_TRUE(s.Upsert(Pod("a")));
  EXPECT_FALSE(s.Upsert(Pod("a")));  // resourceVersion 1 again: the watch's echo
  auto v2 = Pod("a", "Running");
  v2.as_object()["metadata"].as_object()["resourceVersion"] = "2";
  s.UpdateView("a", v2);             // our PATCH's reply
  EXPECT_FALSE(s.Upsert(v2));        // its echo
  EXPECT_FALSE(s.Upsert(Pod("a")));  // older
  EXPECT_EQ(api::GetString(s.Get("a")->view, {"status", "phase"}), "Running");
  auto v3 = Pod("a", "Succeeded");
  v3.as_object()["metadata"].as_object()["resourceVersion"] = "3";
  EXPECT_TRUE(s.Upsert(v3));
  // A pod the relist marked gone that comes back at the version held is taken again.
  s.MarkDeleted("a");
  EXPECT_TRUE(s.Upsert(v3));
  EXPECT_FALSE(s.Get("a")->api_deleted);
}

TEST(PodStore, StoredReportsOutliveTheReplyArena) {
  PodStore s;
  s.Upsert(Pod("a"));
  s.Update("a", [](PodRecord& r) { r.backend = BackendState::kCreated; });
  {
    json::storage_ptr arena = json::make_shared_resource<json::monotonic_resource>();
    auto v =
        json::parse(R"([{"UID":"a","containers":[{"name":"c","state":{"running":{}}}]}])", arena);
    auto reports = api::ParsePodStatusList(v);
    ASSERT_TRUE(reports.ok());
    EXPECT_EQ(s.ApplyReports(*reports, std::chrono::steady_clock::now(), 1).size(), 1u);
    EXPECT_TRUE(s.ApplyReports(*reports, std::chrono::steady_clock::now(), 1).empty());  // same
  }
  auto r = s.Get("a");
  ASSERT_TRUE(r && r->reported);
  EXPECT_EQ(api::GetString(r->reported->containers[0], {"name"}), "c");
}

// A watch event's tree lives in an arena (kube::ParseWatchEvent); the record must keep
// copies on the default resource, or every pod would hold its last event's whole arena.
TEST(PodStore, ARecordKeepsNothingOfTheWatchEventsArena) {
  PodStore s;
  const json::storage_ptr default_resource;
  {
    auto ev =
        kube::ParseWatchEvent(R"({"type":"ADDED","object":)" + json::serialize(Pod("a")) + "}");
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    ASSERT_NE(ev->object.storage().get(), default_resource.get());
    ASSERT_TRUE(s.Upsert(ev->object));
  }
  auto r = s.Get("a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->view.get().storage().get(), default_resource.get());
  EXPECT_EQ(api::GetString(r->view, {"metadata", "annotations", "a"}), "b");
  EXPECT_EQ(api::GetString(r->view.get().at("spec").at("containers").at(0), {"image"}), "i");
  EXPECT_NE(r->full.find(R"("image":"i")"), std::string::npos);
}

TEST(PodStore, UnchangedReplyEntriesAreSkippedAndChangedOnesStored) {
  PodStore s;
  s.Upsert(Pod("a"));
  s.Upsert(Pod("b"));
  for (const char* uid : {"a", "b"}) {
    s.Update(uid, [](PodRecord& r) { r.backend = BackendState::kCreated; });
  }
  auto now = std::chrono::steady_clock::now();
  std::string reply = R"([{"UID":"a","JID":"j1","containers":[{"name":"c","state":{"running":{}}}]},
                          {"UID":"b","containers":[]},{"UID":"zz","containers":[]},{"bad":1}])";
  size_t malformed = 0;
  auto changed = s.ApplyReportsText(reply, now, 1, &malformed);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(malformed, 1u);
  EXPECT_EQ(s.Get("a")->job_id, "j1");
  changed = s.ApplyReportsText(reply, now, 2, &malformed);
  EXPECT_TRUE(changed->empty());
  EXPECT_EQ(s.Get("b")->answered_round, 2u);
  // The same report in another layout is no change either.
  changed = s.ApplyReportsText(R"([{"containers": [], "UID": "b"}])", now, 3, &malformed);
  EXPECT_TRUE(changed->empty());
  changed = s.ApplyReportsText(
      R"([{"UID":"a","containers":[{"name":"c","state":{"terminated":{"exitCode":1}}}]}])", now, 4,
      &malformed);
  EXPECT_EQ(*changed, std::vector<std::string>{"a"});
  EXPECT_FALSE(s.ApplyReportsText("{}", now, 5, &malformed).ok());
}

TEST(PodStore, PodsMissingFromARoundAreLostAfterTheGrace) {
  PodStore s;
  s.Upsert(Pod("a"));
  s.Upsert(Pod("b"));
  auto t0 = std::chrono::steady_clock::now();
  for (const char* uid : {"a", "b"}) {
    s.Update(uid, [&](PodRecord& r) {
      r.backend = BackendState::kCreated;
      r.sent_at = t0;
    });
  }
  size_t n = 0;
  (void)s.BeginStatusRound(7, &n);
  api::PodStatus a;
  a.uid = "a";
  s.ApplyReports({a}, t0, 7);
  EXPECT_TRUE(s.MarkMissing(7, t0 + std::chrono::seconds(10), std::chrono::seconds(30)).empty());
  auto lost = s.MarkMissing(7, t0 + std::chrono::seconds(31), std::chrono::seconds(30));
  ASSERT_EQ(lost, std::vector<std::string>{"b"});
  (void)s.BeginStatusRound(8, &n);
  EXPECT_EQ(n, 1u);  // lost pods are no longer asked for
}

}  // namespace
}  // namespace il::vk
