#include "sidecars/mock/mock_backend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <thread>

#include "api/pod.h"
#include "sidecars/mock/mock_test_util.h"
#include "testing/fake_clock.h"

namespace il::mock {
namespace {
using namespace std::chrono_literals;
using testing::MakePod;
using testing::PodSpec;
namespace json = boost::json;

// A fake clock that can also act when a follow stream sleeps.
class HookClock : public il::testing::FakeClock {
 public:
  bool SleepFor(Duration d, const std::stop_token& stop = {}) override {
    const bool slept = FakeClock::SleepFor(d, stop);
    if (on_sleep) on_sleep(sleep_count());
    return slept;
  }
  int sleep_count() { return static_cast<int>(sleeps().size()); }
  std::function<void(int)> on_sleep;
};

class RecordingSink : public api::LogSink {
 public:
  bool Write(std::string_view chunk) override {
    text += chunk;
    ++writes;
    return !(close_after && writes >= close_after);
  }
  bool Gone() override { return gone; }
  std::string text;
  int writes = 0;
  int close_after = 0;  // Write returns false from this write on
  bool gone = false;
};

class MockBackendTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(":memory:"); }
  void Open(const std::string& path, MockOptions o = {}) {
    backend_.reset();
    auto store = SqliteStateStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto b = MockBackend::Open(std::move(o), std::move(*store), clock_);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(*b);
  }
  Result<api::CreateResult> Create(const PodSpec& s) {
    return backend_->Create(ctx_, api::RetrievedPodData{MakePod(s), {}, {}, ""});
  }
  std::vector<api::PodStatus> Status(const std::vector<PodSpec>& specs) {
    std::vector<json::value> pods;
    pods.reserve(specs.size());
    for (const auto& s : specs) pods.push_back(MakePod(s));
    auto r = backend_->GetStatus(ctx_, pods);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<api::PodStatus>{};
  }
  std::string StateOf(const PodSpec& s, size_t i = 0) {
    auto st = Status({s});
    if (st.empty()) return "absent";
    return std::string(st[0].containers.at(i).as_object().at("state").as_object().begin()->key());
  }
  il::Status Logs(const PodSpec& s, const std::string& container, const api::ContainerLogOpts& o,
                  RecordingSink& sink) {
    api::LogRequest r{"default", s.uid, s.name, container, o};
    return backend_->GetLogs(ctx_, r, sink);
  }

  std::shared_ptr<HookClock> clock_ = std::make_shared<HookClock>();
  std::unique_ptr<MockBackend> backend_;
  api::CallContext ctx_;
};

TEST_F(MockBackendTest, PodRunsThroughItsTimeline) {
  PodSpec s;
  s.annotations = {{"pod-ip", "10.0.0.5"}};
  auto c = Create(s);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->pod_uid, "uid-1");
  EXPECT_EQ(c->pod_jid, "mock-1");
  EXPECT_EQ(StateOf(s), "waiting");
  clock_->Advance(500ms);
  EXPECT_EQ(StateOf(s), "running");
  clock_->Advance(1s);
  auto st = Status({s});
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].jid, "mock-1");
  EXPECT_EQ(st[0].name, "p1");
  EXPECT_EQ(st[0].ns, "default");
  EXPECT_EQ(st[0].pod_ip, "10.0.0.5");
  EXPECT_EQ(st[0].containers[0].at("state").at("terminated").at("exitCode"), 0);
}

TEST_F(MockBackendTest, CreateIsIdempotentPerUidAndKeepsTheTimeline) {
  PodSpec s;
  ASSERT_EQ(Create(s)->pod_jid, "mock-1");
  clock_->Advance(1100ms);
  ASSERT_EQ(Create(s)->pod_jid, "mock-1");
  clock_->Advance(200ms);
  EXPECT_EQ(StateOf(s), "terminated") << "the second create did not restart the pod";
  PodSpec other;
  other.uid = "uid-2";
  EXPECT_EQ(Create(other)->pod_jid, "mock-2");
  EXPECT_EQ(backend_->pod_count(), 2u);
}

TEST_F(MockBackendTest, CreateErrorAnnotationFailsAndStoresNothing) {
  PodSpec s;
  s.annotations = {{"create-error", "no capacity left"}};
  auto c = Create(s);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(c.status().message(), "no capacity left");
  EXPECT_EQ(backend_->pod_count(), 0u);
  EXPECT_TRUE(Status({s}).empty());
}

TEST_F(MockBackendTest, BadAnnotationIsInvalidArgument) {
  PodSpec s;
  s.annotations = {{"run-seconds", "forever"}};
  auto c = Create(s);
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("mock.interlink.io/run-seconds"), std::string::npos);
}

TEST_F(MockBackendTest, StatusOmitsUnknownPodsAndReportsExitCodesPerContainer) {
  PodSpec s;
  s.containers = {"good", "bad"};
  s.annotations = {{"exit-code.bad", "2"}};
  PodSpec unknown;
  unknown.uid = "uid-x";
  ASSERT_TRUE(Create(s).ok());
  clock_->Advance(5s);
  auto st = Status({unknown, s});
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].containers[0].at("state").at("terminated").at("exitCode"), 0);
  EXPECT_EQ(st[0].containers[1].at("state").at("terminated").at("exitCode"), 2);
  EXPECT_EQ(st[0].containers[1].at("state").at("terminated").at("reason"), "Error");
  EXPECT_TRUE(st[0].pod_ip.is_null());
}

TEST_F(MockBackendTest, InitFailureIsReportedInInitContainerStatuses) {
  PodSpec s;
  s.init_containers = {"a", "b"};
  s.annotations = {{"exit-code.a", "1"}};
  ASSERT_TRUE(Create(s).ok());
  clock_->Advance(10s);
  auto st = Status({s});
  ASSERT_EQ(st[0].init_containers.size(), 2u);
  EXPECT_EQ(st[0].init_containers[0].at("state").at("terminated").at("exitCode"), 1);
  EXPECT_EQ(st[0].init_containers[1].at("state").at("waiting").at("reason"), "PodInitializing");
  EXPECT_EQ(st[0].containers[0].at("state").at("waiting").at("reason"), "PodInitializing");
}

TEST_F(MockBackendTest, DeleteRemovesThePod) {
  PodSpec s;
  ASSERT_TRUE(Create(s).ok());
  EXPECT_TRUE(backend_->Delete(ctx_, MakePod(s)).ok());
  EXPECT_TRUE(Status({s}).empty());
  auto again = backend_->Delete(ctx_, MakePod(s));
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(Create(s)->pod_jid, "mock-2") << "a re-created pod is a new job";
}

TEST_F(MockBackendTest, PodNamesUpTo253CharactersRunReportAndDelete) {
  // Issue 13: a pod name is a DNS-1123 subdomain, so 64 to 253 characters are valid.
  std::vector<PodSpec> specs;
  for (size_t n : {63, 64, 65, 200, 253}) {
    PodSpec s;
    s.uid = "uid-" + std::to_string(n);
    s.name = std::string(n, 'p');
    s.containers = {std::string(63, 'c')};
    s.annotations = {{"pending-seconds", "0"}, {"run-seconds", "1"}};
    auto r = Create(s);
    ASSERT_TRUE(r.ok()) << n << ": " << r.status().ToString();
    specs.push_back(s);
  }
  clock_->Advance(2s);
  auto st = Status(specs);
  ASSERT_EQ(st.size(), specs.size());
  for (size_t i = 0; i < st.size(); ++i) EXPECT_EQ(st[i].name, specs[i].name);
  RecordingSink sink;
  EXPECT_TRUE(Logs(specs.back(), std::string(63, 'c'), {}, sink).ok());
  EXPECT_NE(sink.text.find("exited with code 0"), std::string::npos) << sink.text;
  for (const auto& s : specs) EXPECT_TRUE(backend_->Delete(ctx_, MakePod(s)).ok());
  PodSpec too_long;
  too_long.name = std::string(254, 'p');
  EXPECT_EQ(Create(too_long).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(MockBackendTest, LogsHonourTailSinceTimestampsAndLimit) {
  PodSpec s;
  s.annotations = {{"logs.main", "l1\nl2\nl3\nl4"}, {"pending-seconds", "0"}, {"run-seconds", "4"}};
  ASSERT_TRUE(Create(s).ok());
  clock_->Advance(10s);
  RecordingSink all, tail, since, stamps, limit;
  ASSERT_TRUE(Logs(s, "main", {}, all).ok());
  EXPECT_EQ(all.text, "l1\nl2\nl3\nl4\n");
  api::ContainerLogOpts o;
  o.tail = 2;
  ASSERT_TRUE(Logs(s, "main", o, tail).ok());
  EXPECT_EQ(tail.text, "l3\nl4\n");
  o = {};
  o.since_seconds = 8;  // lines at 0, 1, 2, 3 s; now is 10 s
  ASSERT_TRUE(Logs(s, "main", o, since).ok());
  EXPECT_EQ(since.text, "l3\nl4\n");
  o = {};
  o.timestamps = true;
  o.tail = 1;
  ASSERT_TRUE(Logs(s, "main", o, stamps).ok());
  EXPECT_EQ(stamps.text, "2023-11-14T22:13:23.000000000Z l4\n");
  o = {};
  o.limit_bytes = 4;
  ASSERT_TRUE(Logs(s, "main", o, limit).ok());
  EXPECT_EQ(limit.text, "l1\nl");
}

TEST_F(MockBackendTest, LogsOfUnknownPodOrContainerAreNotFound) {
  PodSpec s;
  ASSERT_TRUE(Create(s).ok());
  RecordingSink sink;
  auto st = Logs(s, "nope", {}, sink);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "container nope not found in pod default/p1");
  PodSpec ghost;
  ghost.uid = "ghost";
  ghost.name = "ghost";
  EXPECT_EQ(Logs(ghost, "main", {}, sink).message(),
            "container main not found in pod default/ghost");
  api::ContainerLogOpts o;
  o.previous = true;
  EXPECT_EQ(Logs(s, "main", o, sink).code(), StatusCode::kNotFound);
  EXPECT_TRUE(sink.text.empty());
}

TEST_F(MockBackendTest, FollowStreamsNewLinesUntilTheContainerEnds) {
  PodSpec s;
  s.annotations = {{"log-interval-seconds", "0.25"}, {"pending-seconds", "0"}};
  ASSERT_TRUE(Create(s).ok());
  clock_->Advance(300ms);
  RecordingSink sink;
  api::ContainerLogOpts o;
  o.follow = true;
  ASSERT_TRUE(Logs(s, "main", o, sink).ok());
  EXPECT_EQ(sink.text, "main started\ntick 1\ntick 2\ntick 3\nmain exited with code 0\n");
  EXPECT_EQ(clock_->sleep_count(), 7) << "polled every 100ms from 0.3s to 1.0s";
  EXPECT_GT(sink.writes, 2) << "lines arrived over time, not at once";
}

TEST_F(MockBackendTest, FollowStopsWhenTheReaderGoes) {
  PodSpec s;
  s.annotations = {{"run-forever", "true"}, {"log-interval-seconds", "0.1"}};
  ASSERT_TRUE(Create(s).ok());
  clock_->Advance(1s);
  RecordingSink sink;
  clock_->on_sleep = [&sink](int n) { sink.gone = n >= 5; };
  api::ContainerLogOpts o;
  o.follow = true;
  ASSERT_TRUE(Logs(s, "main", o, sink).ok());
  EXPECT_EQ(clock_->sleep_count(), 5);
  RecordingSink closing;
  closing.close_after = 2;
  clock_->on_sleep = nullptr;
  ASSERT_TRUE(Logs(s, "main", o, closing).ok());
  EXPECT_EQ(closing.writes, 2);
}

TEST_F(MockBackendTest, FollowEndsWhenThePodIsDeleted) {
  PodSpec s;
  s.annotations = {{"run-forever", "true"}};
  ASSERT_TRUE(Create(s).ok());
  clock_->Advance(1s);
  clock_->on_sleep = [&](int n) {
    if (n == 3) {
      ASSERT_TRUE(backend_->Delete(ctx_, MakePod(s)).ok());
    }
  };
  RecordingSink sink;
  api::ContainerLogOpts o;
  o.follow = true;
  ASSERT_TRUE(Logs(s, "main", o, sink).ok());
  EXPECT_EQ(clock_->sleep_count(), 3);
  EXPECT_EQ(sink.text, "main started\n");
}

TEST_F(MockBackendTest, FollowRespectsLimitBytes) {
  PodSpec s;
  s.annotations = {
      {"run-forever", "true"}, {"log-interval-seconds", "0.1"}, {"pending-seconds", "0"}};
  ASSERT_TRUE(Create(s).ok());
  RecordingSink sink;
  api::ContainerLogOpts o;
  o.follow = true;
  o.limit_bytes = 20;
  ASSERT_TRUE(Logs(s, "main", o, sink).ok());
  EXPECT_EQ(sink.text, "main started\ntick 1\n");
}

TEST_F(MockBackendTest, StateSurvivesReopen) {
  auto dir = std::filesystem::temp_directory_path() / ("mock-backend-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "mock-sd.sqlite").string();
  Open(path);
  PodSpec a, b;
  b.uid = "uid-2";
  b.name = "p2";
  ASSERT_TRUE(Create(a).ok());
  ASSERT_TRUE(Create(b).ok());
  ASSERT_TRUE(backend_->Delete(ctx_, MakePod(b)).ok());
  clock_->Advance(500ms);
  EXPECT_EQ(StateOf(a), "running");
  Open(path);
  EXPECT_EQ(backend_->pod_count(), 1u);
  auto st = Status({a, b});
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].jid, "mock-1");
  EXPECT_EQ(StateOf(a), "running");
  clock_->Advance(1s);
  EXPECT_EQ(StateOf(a), "terminated") << "the timeline continues from the stored creation time";
  PodSpec c;
  c.uid = "uid-3";
  EXPECT_EQ(Create(c)->pod_jid, "mock-3");
  backend_.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(MockBackendTest, PingReportsConfiguredCapacity) {
  InterLinkConfig cfg;
  cfg.data_root_folder = "/var/lib/il";
  cfg.sidecar_settings["MockCapacityCPU"] = "8";
  auto r = MockOptionsFromConfig(cfg);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  MockOptions o = *r;
  EXPECT_EQ(o.state_file, "/var/lib/il/mock-sd.sqlite");
  EXPECT_EQ(o.capacity_memory, "256Gi");
  cfg.sidecar_settings["MockStateFile"] = "/tmp/m.sqlite";
  cfg.sidecar_settings["MockCapacityPods"] = "";  // empty keeps the default
  EXPECT_EQ(MockOptionsFromConfig(cfg)->state_file, "/tmp/m.sqlite");
  EXPECT_EQ(MockOptionsFromConfig(cfg)->capacity_pods, "10000");
  cfg.sidecar_settings["Partition"] = "gpu";  // slurm-sd's, never passed to mock-sd
  auto bad = MockOptionsFromConfig(cfg);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not a key of mock-sd"), std::string::npos);
  Open(":memory:", o);
  auto p = backend_->Ping(ctx_);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, "ok");
  EXPECT_EQ(p->resources, (json::object{{"cpu", "8"}, {"memory", "256Gi"}, {"pods", "10000"}}));
}

TEST_F(MockBackendTest, StatusOfTenThousandPodsTakesMilliseconds) {
  std::vector<json::value> pods;
  for (int i = 0; i < 10000; ++i) {
    PodSpec s;
    s.uid = "uid-" + std::to_string(i);
    s.name = "p" + std::to_string(i);
    pods.push_back(MakePod(s));
    ASSERT_TRUE(backend_->Create(ctx_, api::RetrievedPodData{pods.back(), {}, {}, ""}).ok());
  }
  clock_->Advance(500ms);
  auto t0 = std::chrono::steady_clock::now();
  auto st = backend_->GetStatus(ctx_, pods);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size(), 10000u);
  std::cout << "GetStatus(10000 pods): "
            << std::chrono::duration_cast<std::chrono::microseconds>(took).count() << " us\n";
  EXPECT_LT(took, 1s);
}

}  // namespace
}  // namespace il::mock

namespace il::mock {
namespace {

TEST_F(MockBackendTest, TheWatchWakesAtEveryChangeOfTheTimeline) {
  EXPECT_TRUE(backend_->SupportsStatusWatch());
  auto& log = backend_->changes();
  std::string c0 = log.Cursor();
  PodSpec s;  // pending 0.5 s, then runs 1 s
  ASSERT_TRUE(Create(s).ok());
  auto created = log.Since(c0);
  EXPECT_EQ(created.uids, std::vector<std::string>{"uid-1"}) << "create notifies at once";
  EXPECT_TRUE(log.Since(created.cursor).uids.empty()) << "nothing due before it starts";
  clock_->Advance(500ms);
  backend_->FireDue();
  auto started = log.Since(created.cursor);
  EXPECT_EQ(started.uids, std::vector<std::string>{"uid-1"});
  EXPECT_EQ(StateOf(s), "running");
  clock_->Advance(1s);
  EXPECT_EQ(backend_->FireDue(), std::chrono::system_clock::time_point::max())
      << "the end was its last change";
  auto ended = log.Since(started.cursor);
  EXPECT_EQ(ended.uids, std::vector<std::string>{"uid-1"});
  ASSERT_TRUE(backend_->Delete(ctx_, MakePod(s)).ok());
  EXPECT_EQ(log.Since(ended.cursor).uids, std::vector<std::string>{"uid-1"});
}

TEST_F(MockBackendTest, AWaitingWatchAnswersWhenAPodIsCreated) {
  std::string c0 = backend_->changes().Cursor();
  std::thread t([&] { ASSERT_TRUE(Create(PodSpec{}).ok()); });
  auto w = backend_->WatchStatus(ctx_, c0, 30s, nullptr);
  t.join();
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->uids, std::vector<std::string>{"uid-1"});
}

TEST(MockChangeOffsets, AreTheDistinctMomentsOfThePlan) {
  MockPlan plan;
  plan.pending = 500ms;
  ContainerPlan init;
  init.name = "i";
  init.init = true;
  init.start = 500ms;
  init.run = 1s;
  ContainerPlan main;
  main.name = "m";
  main.start = 1500ms;  // forever
  ContainerPlan never;
  never.name = "n";
  plan.init_containers = {init};
  plan.containers = {main, never};
  std::vector<Offset> want{500ms, 1500ms};
  EXPECT_EQ(MockBackend::ChangeOffsets(plan), want);
}

}  // namespace
}  // namespace il::mock
