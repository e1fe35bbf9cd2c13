// PodController steps driven one by one against the in-memory API server and interLink.
#include "vk/pod_controller.h"

#include <gtest/gtest.h>

#include "api/pod.h"
#include "kube/paths.h"
#include "testing/fake_kube_api.h"
#include "vk/fake_interlink.h"

namespace il::vk {
namespace {
namespace json = boost::json;
using api::GetString;

struct FakeEvents : EventSink {
  void Record(const EventRef& pod, const std::string& type, const std::string& reason,
              const std::string& message) override {
    std::lock_guard l(mu);
    events.push_back(pod.name + (pod.field_path.empty() ? "" : "/" + pod.field_path) + " " + type +
                     " " + reason + ": " + message);
  }
  bool Has(const std::string& reason) {
    std::lock_guard l(mu);
    for (const auto& e : events) {
      if (e.find(" " + reason + ":") != std::string::npos) return true;
    }
    return false;
  }
  std::mutex mu;
  std::vector<std::string> events;
};

json::object Running(const std::string& name) {
  return {{"name", name}, {"state", {{"running", {{"startedAt", "2024-01-01T00:00:00Z"}}}}}};
}
json::object Exited(const std::string& name, int code) {
  return {{"name", name}, {"state", {{"terminated", {{"exitCode", code}}}}}};
}

class PodControllerTest : public ::testing::Test {
 protected:
  PodControllerTest() {
    PodControllerOptions o;
    o.node_name = "vk";
    o.lost_grace = std::chrono::seconds(0);
    o.hold_first_status = false;  // the steps below write each status at once
    o.watch_min_interval = std::chrono::milliseconds(0);  // WatchOnce returns 0 when answered
    pc_ = std::make_unique<PodController>(api_, il_, objects_, events_, state_, o);
  }
  // PATCHes of pods/status since the last ClearCalls.
  size_t StatusPatches() {
    size_t n = 0;
    for (const auto& c : api_.calls("PATCH")) n += c.path.ends_with("/status") ? 1 : 0;
    return n;
  }
  void HoldFirstStatus(std::chrono::milliseconds interval) {
    PodControllerOptions o = pc_->options();
    o.hold_first_status = true;
    o.status_interval = interval;
    pc_ = std::make_unique<PodController>(api_, il_, objects_, events_, state_, o);
  }

  // Creates a pod bound to the node in the API and returns its uid.
  std::string AddPod(const std::string& name, const std::string& extra_spec = "") {
    auto pod =
        api_.Seed(kube::PodPath("default", name),
                  json::parse(R"({"metadata":{},"spec":{"nodeName":"vk","restartPolicy":"Never",)" +
                              extra_spec + R"("containers":[{"name":"main","image":"busybox"}]},
                                     "status":{"phase":"Pending"}})"));
    return api::PodUid(pod);
  }
  json::value ApiPod(const std::string& name) {
    return *api_.Object(kube::PodPath("default", name));
  }
  void Sync() {
    std::vector<json::value> items;
    auto list = api_.List(kube::PodsPath(""), {});
    for (const auto& p : api::Find(*list, {"items"})->as_array()) items.push_back(p);
    pc_->OnSync(items);
  }
  void Drain() {
    std::stop_source never;
    while (pc_->queue().Len() > 0) {
      auto key = pc_->queue().Get(never.get_token());
      (void)pc_->Reconcile(*key);
      pc_->queue().Done(*key);
    }
  }

  kube::FakeKubeApi api_;
  FakeInterlink il_;
  KubeObjectSource objects_{api_};
  FakeEvents events_;
  StateFile state_;
  std::unique_ptr<PodController> pc_;
};

TEST_F(PodControllerTest, FirstStatusWaitsForMoreThanBeingCreated) {
  HoldFirstStatus(std::chrono::milliseconds(5000));
  std::string fast = AddPod("fast");
  std::string pulling = AddPod("pulling");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  Drain();  // the creates
  ASSERT_EQ(il_.creates.size(), 2u);
  api_.ClearCalls();

  // Reported as being created: held, no PATCH.
  ASSERT_TRUE(pc_->Reconcile(fast).ok());
  EXPECT_EQ(StatusPatches(), 0u);

  // Running as the next report: one PATCH, straight to Running, JobID with it.
  il_.SetStatus(fast, {Running("main")});
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  ASSERT_TRUE(pc_->Reconcile(fast).ok());
  EXPECT_EQ(StatusPatches(), 1u);
  EXPECT_EQ(GetString(ApiPod("fast"), {"status", "phase"}), "Running");
  EXPECT_EQ(*api::Annotation(ApiPod("fast"), "JobID"), "job-1");

  // A waiting reason beyond "being created" is news: written at once.
  api_.ClearCalls();
  il_.SetStatus(pulling, {json::object{{"name", "main"},
                                       {"state", {{"waiting", {{"reason", "ErrImagePull"}}}}}}});
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  ASSERT_TRUE(pc_->Reconcile(pulling).ok());
  ASSERT_EQ(StatusPatches(), 1u);
  auto pod = ApiPod("pulling");
  auto cs = api::Find(pod, {"status", "containerStatuses"});
  ASSERT_TRUE(cs && cs->is_array());
  EXPECT_EQ(GetString(cs->as_array()[0], {"state", "waiting", "reason"}), "ErrImagePull");
}

TEST_F(PodControllerTest, FirstStatusHoldEnds) {
  HoldFirstStatus(std::chrono::milliseconds(0));  // the hold is 100 ms
  std::string uid = AddPod("slow");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  Drain();  // the create
  ASSERT_EQ(il_.creates.size(), 1u);
  api_.ClearCalls();
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  EXPECT_EQ(StatusPatches(), 0u);
  EXPECT_EQ(pc_->queue().Len(), 0u);
  std::stop_source never;
  auto key = pc_->queue().Get(never.get_token());  // back after the hold
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, uid);
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  pc_->queue().Done(uid);
  ASSERT_EQ(StatusPatches(), 1u);
  auto pod = ApiPod("slow");
  auto cs = api::Find(pod, {"status", "containerStatuses"});
  ASSERT_TRUE(cs && cs->is_array());
  EXPECT_EQ(GetString(cs->as_array()[0], {"state", "waiting", "reason"}), "ContainerCreating");
}

TEST_F(PodControllerTest, CreatesThenWritesStatusFromTheBackendUntilSucceeded) {
  std::string uid = AddPod("p1");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  ASSERT_EQ(il_.creates.size(), 1u);
  EXPECT_EQ(api::PodUid(il_.creates[0].pod), uid);
  EXPECT_EQ(api::Find(il_.creates[0].pod, {"status"}), nullptr);
  EXPECT_FALSE(api::Annotation(ApiPod("p1"), "JobID"));  // comes with the first status

  // Nothing reported yet: Pending with ContainerCreating.
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  EXPECT_EQ(*api::Annotation(ApiPod("p1"), "JobID"), "job-1");
  EXPECT_EQ(GetString(ApiPod("p1"), {"status", "phase"}), "Pending");
  auto pod1 = ApiPod("p1");
  auto cs = api::Find(pod1, {"status", "containerStatuses"});
  ASSERT_TRUE(cs && cs->is_array());
  EXPECT_EQ(GetString(cs->as_array()[0], {"state", "waiting", "reason"}), "ContainerCreating");

  il_.SetStatus(uid, {Running("main")});
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  Drain();
  EXPECT_EQ(GetString(ApiPod("p1"), {"status", "phase"}), "Running");
  EXPECT_TRUE(events_.Has("Started"));

  // An unchanged report writes nothing.
  api_.ClearCalls();
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  Drain();
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  EXPECT_TRUE(api_.calls("PATCH").empty());

  il_.SetStatus(uid, {Exited("main", 0)});
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  Drain();
  EXPECT_EQ(GetString(ApiPod("p1"), {"status", "phase"}), "Succeeded");
  // Terminal pods are no longer polled.
  size_t calls = il_.status_calls.size();
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  EXPECT_EQ(il_.status_calls.size(), calls);
}

TEST_F(PodControllerTest, BackendEventsArePostedOnTheirContainerOncePerNewOccurrence) {
  std::string uid = AddPod("p1");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  auto running = Running("main");
  running["ready"] = false;
  il_.SetStatus(uid, {running});
  auto ev = [](int count) {
    return json::object{{"container", "main"},
                        {"type", "Warning"},
                        {"reason", "Unhealthy"},
                        {"message", "Readiness probe failed: boom"},
                        {"count", count}};
  };
  il_.SetEvents(uid, {ev(1)});
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  Drain();
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  auto count = [&] {
    std::lock_guard l(events_.mu);
    return std::count(events_.events.begin(), events_.events.end(),
                      "p1/spec.containers{main} Warning Unhealthy: Readiness probe failed: boom");
  };
  EXPECT_EQ(count(), 1);
  EXPECT_EQ(GetString(ApiPod("p1"), {"status", "phase"}), "Running");
  auto pod = ApiPod("p1");
  EXPECT_FALSE(
      api::Find(pod, {"status", "containerStatuses"})->as_array()[0].at("ready").as_bool());
  // The same count again posts nothing; a higher count posts once more.
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  Drain();
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  EXPECT_EQ(count(), 1);
  il_.SetEvents(uid, {ev(2)});
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  Drain();
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  EXPECT_EQ(count(), 2);
}

TEST_F(PodControllerTest, StatusOfAllPodsIsOneBatchedCall) {
  for (int i = 0; i < 50; ++i) AddPod("p" + std::to_string(i));
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  Drain();
  EXPECT_EQ(il_.creates.size(), 50u);
  il_.status_calls.clear();
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  ASSERT_EQ(il_.status_calls.size(), 1u);
  EXPECT_EQ(il_.status_calls[0].size(), 50u);
}

TEST_F(PodControllerTest, RejectedCreationIsFailedProviderFailedWithTheSidecarsMessage) {
  std::string uid = AddPod("bad");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  il_.create_error = Status(StatusCode::kFailedPrecondition, "quota exceeded");
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  auto pod = ApiPod("bad");
  EXPECT_EQ(GetString(pod, {"status", "phase"}), "Failed");
  EXPECT_EQ(GetString(pod, {"status", "reason"}), "ProviderFailed");
  EXPECT_NE(GetString(pod, {"status", "message"}).find("quota exceeded"), std::string::npos);
  EXPECT_TRUE(events_.Has("ProviderCreateFailed"));
}

TEST_F(PodControllerTest, UnreachableInterlinkIsRetriedNotFailed) {
  std::string uid = AddPod("p");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  il_.create_error = Unavailable("connection refused");
  EXPECT_FALSE(pc_->Reconcile(uid).ok());
  EXPECT_NE(GetString(ApiPod("p"), {"status", "phase"}), "Failed");
  il_.create_error = Status::Ok();
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  EXPECT_EQ(il_.backend.size(), 1u);
}

TEST_F(PodControllerTest, DeletionStopsTheBackendThenForceDeletesWithUidPrecondition) {
  std::string uid = AddPod("p");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  ASSERT_TRUE(api_.Delete(kube::PodPath("default", "p"), {}).ok());  // graceful: Terminating
  pc_->OnEvent(kube::WatchEventType::kModified, ApiPod("p"));
  api_.ClearCalls();
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  ASSERT_EQ(il_.deletes.size(), 1u);
  EXPECT_TRUE(il_.backend.empty());
  auto dels = api_.calls("DELETE");
  ASSERT_EQ(dels.size(), 1u);
  EXPECT_EQ(api::GetInt(dels[0].body, {"gracePeriodSeconds"}, -1), 0);
  EXPECT_EQ(GetString(dels[0].body, {"preconditions", "uid"}), uid);
  EXPECT_FALSE(api_.Object(kube::PodPath("default", "p")));
  pc_->OnEvent(kube::WatchEventType::kDeleted, json::object{{"metadata", {{"uid", uid}}}});
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  EXPECT_EQ(pc_->store().size(), 0u);
  EXPECT_EQ(il_.deletes.size(), 1u);  // not deleted twice
}

TEST_F(PodControllerTest, DeletionWithGraceZeroStopsTheBackendWithoutASecondDelete) {
  std::string uid = AddPod("p");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  // What the watch shows for `kubectl delete --force`, or a finished pod deleted: the
  // API server sets the timestamp with grace 0 and removes the pod in the same request.
  json::value pod = ApiPod("p");
  pod.as_object()["metadata"].as_object()["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  pod.as_object()["metadata"].as_object()["deletionGracePeriodSeconds"] = 0;
  auto& rv = pod.as_object()["metadata"].as_object()["resourceVersion"];  // a new version
  rv = std::to_string(std::stoll(std::string(rv.as_string())) + 1);
  pc_->OnEvent(kube::WatchEventType::kModified, pod);
  api_.ClearCalls();
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  EXPECT_EQ(il_.deletes.size(), 1u);
  EXPECT_TRUE(il_.backend.empty());
  EXPECT_TRUE(api_.calls("DELETE").empty());
}

TEST_F(PodControllerTest, BackendDeleteFailureIsRetriedWithinTheGracePeriod) {
  std::string uid = AddPod("p");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  ASSERT_TRUE(api_.Delete(kube::PodPath("default", "p"), {}).ok());
  pc_->OnEvent(kube::WatchEventType::kModified, ApiPod("p"));
  il_.delete_error = Unavailable("interLink down");
  EXPECT_FALSE(pc_->Reconcile(uid).ok());
  EXPECT_TRUE(api_.Object(kube::PodPath("default", "p")));  // still Terminating
  il_.delete_error = Status::Ok();
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  EXPECT_FALSE(api_.Object(kube::PodPath("default", "p")));
}

TEST_F(PodControllerTest, ForceDeletedPodIsRemovedFromTheBackend) {
  std::string uid = AddPod("p");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  pc_->OnEvent(kube::WatchEventType::kDeleted, ApiPod("p"));
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  EXPECT_EQ(il_.deletes.size(), 1u);
  EXPECT_EQ(pc_->store().size(), 0u);
}

TEST_F(PodControllerTest, RestartAdoptsRunningPodsWithoutCreatingThemAgain) {
  std::string uid = AddPod("p");
  il_.Seed(ApiPod("p"), "job-7");
  il_.SetStatus(uid, {Running("main")});
  Sync();
  EXPECT_FALSE(pc_->Reconcile(uid).ok());  // nothing is created before adoption
  ASSERT_TRUE(pc_->Adopt().ok());
  Drain();
  EXPECT_TRUE(il_.creates.empty());
  EXPECT_EQ(GetString(ApiPod("p"), {"status", "phase"}), "Running");
}

TEST_F(PodControllerTest, AdoptionDeletesBackendPodsThatKubernetesNoLongerHas) {
  il_.Seed(json::parse(R"({"metadata":{"name":"gone","namespace":"default","uid":"old-uid"}})"),
           "job-1");
  Sync();
  il_.delete_error = Unavailable("interlink is down");
  ASSERT_TRUE(pc_->Adopt().ok());  // adoption is not held up by the orphan's delete
  Drain();                         // the failed delete is queued for a retry
  EXPECT_EQ(il_.backend.size(), 1u);
  il_.delete_error = Status::Ok();
  ASSERT_TRUE(pc_->Reconcile("old-uid").ok());
  ASSERT_FALSE(il_.deletes.empty());
  EXPECT_EQ(api::PodUid(il_.deletes.back()), "old-uid");
  // The pod is gone from Kubernetes: the kubelet's minimum grace, not the 30 s default.
  EXPECT_EQ(api::GracePeriodSeconds(il_.deletes.back()), 2);
  EXPECT_TRUE(il_.backend.empty());
  ASSERT_TRUE(pc_->Reconcile("old-uid").ok());  // done: nothing more is sent
  EXPECT_EQ(il_.deletes.size(), 2u);
}

TEST_F(PodControllerTest, MissingConfigMapGivesAnEventAndWaits) {
  std::string uid = AddPod("p", R"("volumes":[{"name":"v","configMap":{"name":"later"}}],)");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  EXPECT_EQ(pc_->Reconcile(uid).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(il_.creates.empty());
  EXPECT_TRUE(events_.Has("FailedMount"));
  EXPECT_EQ(GetString(ApiPod("p"), {"status", "phase"}), "Pending");
  api_.Seed(kube::ConfigMapPath("default", "later"), json::parse(R"({"data":{"k":"v"}})"));
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  EXPECT_EQ(il_.creates.size(), 1u);
}

TEST_F(PodControllerTest, PodTheBackendLostIsFailed) {
  std::string uid = AddPod("p");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  il_.backend.clear();
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  Drain();
  EXPECT_EQ(GetString(ApiPod("p"), {"status", "phase"}), "Failed");
}

TEST_F(PodControllerTest, FailedStatusCallTellsTheNodeController) {
  std::string uid = AddPod("p");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  ASSERT_TRUE(pc_->Reconcile(uid).ok());
  int told = 0;
  pc_->SetOnInterlinkError([&] { ++told; });
  il_.status_error = Unavailable("down");
  EXPECT_FALSE(pc_->SyncStatuses().ok());
  EXPECT_EQ(told, 1);
}

// --- the status watch ---

TEST_F(PodControllerTest, AWatchedChangeIsAskedForJustThatPod) {
  il_.EnableWatch();
  std::string a = AddPod("a"), b = AddPod("b"), c = AddPod("c");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  Drain();
  ASSERT_EQ(il_.creates.size(), 3u);
  std::stop_source stop;
  // The first answer (empty cursor) is a reset: a full round is due, nothing else.
  EXPECT_EQ(pc_->WatchOnce(stop.get_token()).count(), 0);
  EXPECT_TRUE(pc_->watching());
  il_.status_calls.clear();
  il_.SetStatus(b, {Running("main")});
  EXPECT_EQ(pc_->WatchOnce(stop.get_token()).count(), 0);
  ASSERT_EQ(il_.status_calls.size(), 1u);
  ASSERT_EQ(il_.status_calls[0].size(), 1u) << "only the pod that changed";
  EXPECT_EQ(api::PodUid(il_.status_calls[0][0]), b);
  Drain();
  EXPECT_EQ(GetString(ApiPod("b"), {"status", "phase"}), "Running");
  EXPECT_NE(GetString(ApiPod("a"), {"status", "phase"}), "Running");
  EXPECT_EQ(pc_->stats().watch_wakes.load(), 1u);
  (void)a, (void)c;
}

TEST_F(PodControllerTest, AWatchAnswerWithStatusesNeedsNoStatusCall) {
  il_.EnableWatch();
  il_.watch_statuses = true;
  std::string a = AddPod("a"), b = AddPod("b");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  Drain();
  std::stop_source stop;
  EXPECT_EQ(pc_->WatchOnce(stop.get_token()).count(), 0);  // the reset
  il_.status_calls.clear();
  il_.SetStatus(b, {Running("main")});
  EXPECT_EQ(pc_->WatchOnce(stop.get_token()).count(), 0);
  EXPECT_TRUE(il_.status_calls.empty()) << "the answer carried b's status";
  EXPECT_EQ(pc_->stats().watch_statuses.load(), 1u);
  EXPECT_EQ(pc_->stats().watch_status_calls.load(), 0u);
  Drain();
  EXPECT_EQ(GetString(ApiPod("b"), {"status", "phase"}), "Running");
  EXPECT_NE(GetString(ApiPod("a"), {"status", "phase"}), "Running");
  (void)a;
}

TEST_F(PodControllerTest, AWatchAnswerIsTrustedOnlyForThePodsItNames) {
  std::string a = AddPod("a"), b = AddPod("b"), c = AddPod("c");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  Drain();
  il_.status_calls.clear();
  // b changed, and the answer carries b's status; c changed with no status; the status
  // for a is one the answer does not name (a confused or hostile server): ignored.
  api::StatusChanges ch;
  ch.uids = {b, c};
  ch.with_statuses = true;
  for (const auto& uid : {a, b}) {
    api::PodStatus s;
    s.uid = uid;
    s.containers = {Running("main")};
    ch.statuses.push_back(s);
  }
  il_.SetStatus(c, {Running("main")});
  ASSERT_TRUE(pc_->SyncChanged(ch).ok());
  ASSERT_EQ(il_.status_calls.size(), 1u);
  ASSERT_EQ(il_.status_calls[0].size(), 1u) << "only the pod without a status";
  EXPECT_EQ(api::PodUid(il_.status_calls[0][0]), c);
  Drain();
  EXPECT_EQ(GetString(ApiPod("b"), {"status", "phase"}), "Running");
  EXPECT_EQ(GetString(ApiPod("c"), {"status", "phase"}), "Running");
  EXPECT_NE(GetString(ApiPod("a"), {"status", "phase"}), "Running");
}

TEST_F(PodControllerTest, AStatusChangeGoesBeforeTheCreatesWaitingInTheQueue) {
  std::string a = AddPod("a");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  Drain();
  // Two new pods arrive: their creates wait in the queue.
  for (const char* name : {"b", "c"}) {
    AddPod(name);
    pc_->OnEvent(kube::WatchEventType::kAdded, ApiPod(name));
  }
  ASSERT_EQ(pc_->queue().Len(), 2u);
  std::stop_source never;
  auto next = [&] {
    auto key = pc_->queue().Get(never.get_token());
    pc_->queue().Done(*key);
    return *key;
  };
  // a's change, from the full round: handed out first.
  il_.SetStatus(a, {Running("main")});
  ASSERT_TRUE(pc_->SyncStatuses().ok());
  EXPECT_EQ(next(), a);
  // And from a watch answer.
  il_.SetStatus(a, {Exited("main", 0)});
  api::StatusChanges ch;
  ch.uids = {a};
  ASSERT_TRUE(pc_->SyncChanged(ch).ok());
  EXPECT_EQ(next(), a);
  EXPECT_EQ(pc_->queue().Len(), 2u);  // the creates, still waiting
}

TEST_F(PodControllerTest, WatchesArePacedUnderABurstButNotAfterAQuietSpell) {
  PodControllerOptions o = pc_->options();
  o.watch_min_interval = std::chrono::milliseconds(400);
  pc_ = std::make_unique<PodController>(api_, il_, objects_, events_, state_, o);
  il_.EnableWatch();
  std::string a = AddPod("a");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  Drain();
  std::stop_source stop;
  // Answered at once (the reset, then a change already there): the next watch waits for
  // the rest of the interval.
  auto wait = pc_->WatchOnce(stop.get_token());
  EXPECT_GT(wait.count(), 300);
  EXPECT_LE(wait.count(), 400);
  il_.SetStatus(a, {Running("main")});
  EXPECT_GT(pc_->WatchOnce(stop.get_token()).count(), 300);
  // A change that arrives while the watch waits, after the interval: no pause after it.
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    il_.SetStatus(a, {Exited("main", 0)});
  });
  EXPECT_EQ(pc_->WatchOnce(stop.get_token()).count(), 0);
  later.join();
  EXPECT_EQ(pc_->stats().watch_wakes.load(), 2u);
}

TEST_F(PodControllerTest, WithoutTheExtensionTheControllerKeepsPolling) {
  AddPod("a");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  std::stop_source stop;
  auto wait = pc_->WatchOnce(stop.get_token());
  EXPECT_EQ(wait, pc_->options().watch_probe_interval);
  EXPECT_EQ(il_.watch_calls, 0) << "never asked before the ping advertises it";
  EXPECT_FALSE(pc_->watching());
}

TEST_F(PodControllerTest, AFailingWatchFallsBackToPollingAndBacksOff) {
  il_.EnableWatch();
  AddPod("a");
  Sync();
  ASSERT_TRUE(pc_->Adopt().ok());
  std::stop_source stop;
  EXPECT_EQ(pc_->WatchOnce(stop.get_token()).count(), 0);
  EXPECT_TRUE(pc_->watching());
  il_.watch_error = Unavailable("interLink restarting");
  auto first = pc_->WatchOnce(stop.get_token());
  EXPECT_FALSE(pc_->watching());
  EXPECT_GT(first.count(), 0);
  EXPECT_GT(pc_->WatchOnce(stop.get_token()), first) << "backs off";
  il_.watch_error = NotFound("404 page not found");  // an interLink without the path
  EXPECT_EQ(pc_->WatchOnce(stop.get_token()), pc_->options().watch_probe_interval);
}

}  // namespace
}  // namespace il::vk
