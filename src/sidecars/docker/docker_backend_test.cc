#include "sidecars/docker/docker_backend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "api/pod.h"
#include "sidecars/docker/bind_source.h"
#include "sidecars/docker/fake_docker_engine.h"
#include "sidecars/docker/state_store.h"

namespace il::docker {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

class StringSink : public api::LogSink {
 public:
  std::string data;
  bool Write(std::string_view c) override {
    data.append(c);
    return true;
  }
  bool Gone() override { return false; }
};

class DockerBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("il-dbt-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    settings_.data_dir = root_ + "/docker-sd";
    settings_.state_file = root_ + "/docker-sd/state.db";
    settings_.pause_binary = root_ + "/il-pause";
    settings_.docker_path = "docker";
    fs::create_directories(root_);
    std::ofstream(settings_.pause_binary) << "pause";
    engine_ = std::make_unique<FakeDockerEngine>();
    settings_.docker_host = engine_->url();
    engine_->AddImage("img");
    Open();
  }
  void TearDown() override {
    backend_.reset();
    EXPECT_TRUE(UnpinBelow(root_).ok());
    fs::remove_all(root_);
  }
  void Open() {
    backend_.reset();
    DockerBackendOptions o;
    o.start_worker = false;
    o.retry_backoff = std::chrono::milliseconds(0);
    auto b = DockerBackend::Create(settings_, o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(*b);
  }

  static api::RetrievedPodData Pod(const std::string& uid, const std::string& spec) {
    api::RetrievedPodData d;
    d.pod = json::parse(R"({"metadata":{"name":"p-)" + uid + R"(","namespace":"ns","uid":")" + uid +
                        R"("},"spec":)" + spec + "}");
    return d;
  }
  Result<api::CreateResult> Create(const api::RetrievedPodData& d) {
    return backend_->Create({}, d);
  }
  api::PodStatus Status1(const api::RetrievedPodData& d) {
    auto s = backend_->GetStatus({}, {d.pod});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->size(), 1u);
    return s->empty() ? api::PodStatus{} : (*s)[0];
  }
  static std::string StateOf(const json::value& cs) {
    return std::string(cs.at("state").as_object().begin()->key());
  }

  std::string root_;
  DockerSettings settings_;
  std::unique_ptr<FakeDockerEngine> engine_;
  std::unique_ptr<DockerBackend> backend_;
};

TEST(StartSlots, AtMostNHoldASlotAndZeroMeansOnePerCpu) {
  EXPECT_EQ(StartSlots(0).count(),
            static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  StartSlots slots(2);
  std::atomic<int> in{0}, most{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      std::lock_guard slot(slots);
      int now = ++in;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      --in;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(most.load(), 2);
}

// With DockerStartConcurrency 0 the count is the engine's CPUs once it has answered /info
// (a remote DOCKER_HOST is not this machine); a configured count stays.
TEST(StartSlots, AnUnconfiguredCountFollowsTheEngineAndHoldersAboveASmallerOneFinishFirst) {
  StartSlots configured(2);
  EXPECT_FALSE(configured.AdoptEngineCpus(4));
  EXPECT_EQ(configured.count(), 2);

  StartSlots slots(0);
  EXPECT_FALSE(slots.AdoptEngineCpus(0));
  EXPECT_FALSE(slots.AdoptEngineCpus(-1));
  EXPECT_TRUE(slots.AdoptEngineCpus(2000));
  EXPECT_EQ(slots.count(), 1024);
  EXPECT_TRUE(slots.AdoptEngineCpus(2));
  EXPECT_FALSE(slots.AdoptEngineCpus(2));
  EXPECT_EQ(slots.count(), 2);

  slots.lock();
  slots.lock();
  EXPECT_TRUE(slots.AdoptEngineCpus(1));  // two held, one allowed
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    std::lock_guard slot(slots);
    got = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(got);
  slots.unlock();  // one held: still at the count
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(got);
  EXPECT_TRUE(slots.AdoptEngineCpus(2));  // a larger count lets the waiter in at once
  waiter.join();
  EXPECT_TRUE(got);
  slots.unlock();
}

TEST_F(DockerBackendTest, WithoutAConfiguredCountAsManyStartAtOnceAsTheEngineHasCpus) {
  engine_->SetSlowCreateAndStart(std::chrono::milliseconds(40));
  settings_.start_concurrency = 0;
  Open();
  ASSERT_TRUE(backend_->Ping({}).ok());  // the fake engine has 4 CPUs
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      EXPECT_TRUE(
          Create(Pod("e" + std::to_string(i), R"({"containers":[{"name":"c","image":"img"}]})"))
              .ok());
    });
  }
  for (auto& t : threads) t.join();
  // At most 4 whatever this machine's CPUs, and more than the 2 of a 2-CPU machine.
  EXPECT_LE(engine_->most_in_flight(), 4);
  EXPECT_GE(engine_->most_in_flight(), 3) << "the fake engine lets calls overlap";
}

TEST_F(DockerBackendTest, TheWorkerSizesTheStartSlotsByTheEngineBeforeAnyPing) {
  settings_.start_concurrency = 0;
  backend_.reset();
  DockerBackendOptions o;  // the worker and events threads run
  auto b = DockerBackend::Create(settings_, o);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  backend_ = std::move(*b);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (backend_->start_concurrency() != 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(backend_->start_concurrency(), 4);  // the fake engine's NCPU
}

// DockerStartConcurrency bounds the engine's creates and starts however many pods arrive.
TEST_F(DockerBackendTest, AtMostStartConcurrencyCreatesAndStartsReachTheEngineAtOnce) {
  engine_->SetSlowCreateAndStart(std::chrono::milliseconds(40));
  auto burst = [&](int slots) {
    settings_.start_concurrency = slots;
    Open();
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        auto d = Pod("s" + std::to_string(slots) + "-" + std::to_string(i),
                     R"({"containers":[{"name":"c","image":"img"}]})");
        EXPECT_TRUE(Create(d).ok());
      });
    }
    for (auto& t : threads) t.join();
    return engine_->most_in_flight();
  };
  EXPECT_EQ(burst(1), 1);
  EXPECT_GE(burst(3), 2) << "the fake engine lets calls overlap (the check above can fail)";
}

TEST_F(DockerBackendTest, CreateRunsASingleContainerPodWithOneCreateAndStart) {
  auto d = Pod("u1", R"({"containers":[{"name":"c","image":"img","args":["a;b","$X"]}]})");
  auto r = Create(d);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pod_uid, "u1");
  EXPECT_EQ(r->pod_jid, "il-ns_p-u1_c_u1");
  EXPECT_EQ(engine_->verbs(),
            (std::vector<std::string>{"pull", "create", "start"}));  // "img": Always
  auto body = engine_->create_body("il-ns_p-u1_c_u1");
  EXPECT_EQ(body.at("Image"), "img");
  EXPECT_EQ(body.at("Cmd"), (json::array{"a;b", "$X"}));
  EXPECT_EQ(body.as_object().if_contains("Entrypoint"), nullptr);
  auto s = Status1(d);
  ASSERT_EQ(s.containers.size(), 1u);
  EXPECT_EQ(StateOf(s.containers[0]), "running");
  EXPECT_EQ(s.jid, "il-ns_p-u1_c_u1");
}

TEST_F(DockerBackendTest, CreateIsIdempotentPerUid) {
  auto d = Pod("u1", R"({"containers":[{"name":"c","image":"img"}]})");
  ASSERT_TRUE(Create(d).ok());
  auto again = Create(d);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->pod_jid, "il-ns_p-u1_c_u1");
  EXPECT_EQ(engine_->calls_with("create").size(), 1u);
}

TEST_F(DockerBackendTest, InitContainersRunInOrderBeforeAppContainers) {
  auto d = Pod("u2", R"({"restartPolicy":"Never","initContainers":[{"name":"i1","image":"exit0"},
      {"name":"i2","image":"img"}],"containers":[{"name":"a","image":"img"},{"name":"b","image":"img"}]})");
  ASSERT_TRUE(Create(d).ok());
  auto names = [&] {
    std::vector<std::string> n;
    for (const auto& c : engine_->calls_with("create")) n.push_back(c[2]);
    return n;
  };
  EXPECT_EQ(names(), (std::vector<std::string>{"il-ns_p-u2_POD_u2", "il-ns_p-u2_i1_u2"}));
  backend_->RunOnce();  // i1 exited 0 -> i2
  EXPECT_EQ(names().back(), "il-ns_p-u2_i2_u2");
  backend_->RunOnce();  // i2 still running: nothing new
  EXPECT_EQ(names().size(), 3u);
  auto s = Status1(d);
  EXPECT_EQ(StateOf(s.init_containers[0]), "terminated");
  EXPECT_EQ(StateOf(s.init_containers[1]), "running");
  EXPECT_EQ(s.containers[0].at("state").at("waiting").at("reason"), "PodInitializing");
  engine_->Exit("il-ns_p-u2_i2_u2", 0);
  backend_->RunOnce();
  EXPECT_EQ(names().size(), 5u);
  s = Status1(d);
  EXPECT_EQ(StateOf(s.containers[0]), "running");
  EXPECT_EQ(StateOf(s.containers[1]), "running");
}

TEST_F(DockerBackendTest, FailingInitContainerFailsThePodWithItsExitCode) {
  auto d = Pod("u3", R"({"restartPolicy":"Never","initContainers":[{"name":"i","image":"exit3"}],
      "containers":[{"name":"a","image":"img"}]})");
  ASSERT_TRUE(Create(d).ok());
  backend_->RunOnce();
  backend_->RunOnce();
  EXPECT_EQ(engine_->calls_with("create").size(), 2u);  // sandbox + init only
  auto s = Status1(d);
  EXPECT_EQ(s.init_containers[0].at("state").at("terminated").at("exitCode"), 3);
  EXPECT_EQ(StateOf(s.containers[0]), "waiting");
}

TEST_F(DockerBackendTest, MissingImageIsAWaitingReasonAndIsRetried) {
  auto d =
      Pod("u4", R"({"containers":[{"name":"c","image":"nosuch:1","imagePullPolicy":"Never"}]})");
  ASSERT_TRUE(Create(d).ok());
  auto s = Status1(d);
  EXPECT_EQ(s.containers[0].at("state").at("waiting").at("reason"), "ErrImageNeverPull");
  engine_->AddImage("nosuch:1");
  backend_->RunOnce();
  EXPECT_EQ(StateOf(Status1(d).containers[0]), "running");
  auto p = Pod("u5", R"({"containers":[{"name":"c","image":"remote/img:2"}]})");
  ASSERT_TRUE(Create(p).ok());
  EXPECT_EQ(Status1(p).containers[0].at("state").at("waiting").at("reason"), "ErrImagePull");
  EXPECT_EQ(engine_->calls_with("pull").back(),
            (std::vector<std::string>{"docker", "pull", "remote/img:2"}));
  // IfNotPresent: a missing image is pulled through the API, then the create is repeated.
  auto q = Pod("u5b", R"({"containers":[{"name":"c","image":"pullable/img:3"}]})");
  ASSERT_TRUE(Create(q).ok());
  EXPECT_EQ(StateOf(Status1(q).containers[0]), "running");
  EXPECT_EQ(engine_->calls_with("pull").back(),
            (std::vector<std::string>{"docker", "pull", "pullable/img:3"}));
}

TEST_F(DockerBackendTest, InvalidPodsStartNothingAndLeaveNoState) {
  auto d = Pod(
      "u6",
      R"({"containers":[{"name":"c","image":"img","volumeMounts":[{"name":"h","mountPath":"/h"}]}],
      "volumes":[{"name":"h","hostPath":{"path":"/etc"}}]})");
  auto r = Create(d);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("HostPathAllowList"), std::string::npos);
  EXPECT_TRUE(engine_->verbs().empty());
  EXPECT_EQ(backend_->pod_count(), 0u);
  EXPECT_FALSE(fs::exists(settings_.PodDir("u6")));
}

TEST_F(DockerBackendTest, StatusOfManyPodsIsOneGetPerContainerAndNoProcess) {
  std::vector<json::value> pods;
  for (int i = 0; i < 5; ++i) {
    auto d = Pod("m" + std::to_string(i), R"({"containers":[{"name":"c","image":"img"}]})");
    ASSERT_TRUE(Create(d).ok());
    pods.push_back(d.pod);
  }
  pods.push_back(Pod("unknown", R"({"containers":[{"name":"c","image":"img"}]})").pod);
  size_t before = engine_->verbs().size();
  auto s = backend_->GetStatus({}, pods);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 5u);
  // One GET /containers/{name}/json per container of the known pods, no process.
  auto verbs = engine_->verbs();
  EXPECT_EQ(verbs.size(), before + 5);
  for (size_t i = before; i < verbs.size(); ++i) EXPECT_EQ(verbs[i], "inspect");
}

TEST_F(DockerBackendTest, DeleteStopsWithTheGracePeriodThenRemovesEverything) {
  auto d = Pod(
      "u7",
      R"({"terminationGracePeriodSeconds":7,"containers":[{"name":"a","image":"img"},{"name":"b","image":"img"}],
      "volumes":[{"name":"e","emptyDir":{}}]})");
  ASSERT_TRUE(Create(d).ok());
  EXPECT_TRUE(fs::exists(settings_.PodDir("u7")));
  ASSERT_TRUE(backend_->Delete({}, d.pod).ok());
  auto stop = engine_->calls_with("stop");
  ASSERT_EQ(stop.size(), 3u);  // one POST /containers/{name}/stop?t=7 each
  EXPECT_EQ(stop[0][2], "--time=7");
  EXPECT_EQ(stop.back().back(), "il-ns_p-u7_POD_u7");  // the sandbox goes last
  EXPECT_EQ(engine_->calls_with("rm").size(), 3u);
  EXPECT_TRUE(engine_->containers().empty());
  EXPECT_FALSE(fs::exists(settings_.PodDir("u7")));
  EXPECT_EQ(backend_->Delete({}, d.pod).code(), StatusCode::kNotFound);
  EXPECT_TRUE(backend_->GetStatus({}, {d.pod})->empty());
}

TEST_F(DockerBackendTest, DeleteOfFinishedPodSkipsTheStop) {
  auto d = Pod("u8", R"({"restartPolicy":"Never","containers":[{"name":"a","image":"exit0"}]})");
  ASSERT_TRUE(Create(d).ok());
  EXPECT_EQ(StateOf(Status1(d).containers[0]), "terminated");
  ASSERT_TRUE(backend_->Delete({}, d.pod).ok());
  EXPECT_TRUE(engine_->calls_with("stop").empty());
  EXPECT_TRUE(engine_->containers().empty());
}

TEST_F(DockerBackendTest, RestartKeepsPodsAndDuplicatesNothing) {
  auto d = Pod(
      "u9",
      R"({"initContainers":[{"name":"i","image":"img"}],"containers":[{"name":"a","image":"img"}]})");
  ASSERT_TRUE(Create(d).ok());
  Open();  // a new docker-sd on the same state file
  EXPECT_EQ(backend_->pod_count(), 1u);
  auto again = Create(d);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->pod_jid, "il-ns_p-u9_POD_u9");
  engine_->Exit("il-ns_p-u9_i_u9", 0);
  backend_->RunOnce();  // reconcile + advance: the app container starts exactly once
  backend_->RunOnce();
  EXPECT_EQ(engine_->calls_with("create").size(), 3u);
  EXPECT_EQ(StateOf(Status1(d).containers[0]), "running");
}

TEST_F(DockerBackendTest, ReconcileRemovesOnlyOrphansOfThisState) {
  auto d = Pod("u10", R"({"containers":[{"name":"a","image":"img"}]})");
  ASSERT_TRUE(Create(d).ok());
  auto labels = engine_->containers().at("il-ns_p-u10_a_u10").labels;
  auto orphan = labels;
  orphan["io.kubernetes.pod.uid"] = "gone";
  engine_->AddForeign("il-ns_x_a_gone", orphan);
  auto other = orphan;
  other["interlink.docker-sd.instance"] = "someone-else";
  engine_->AddForeign("il-ns_y_a_other", other);
  backend_->RunOnce();
  auto cs = engine_->containers();
  EXPECT_TRUE(cs.count("il-ns_p-u10_a_u10"));
  EXPECT_FALSE(cs.count("il-ns_x_a_gone"));
  EXPECT_TRUE(cs.count("il-ns_y_a_other"));
}

// Mounts at or below `dir`, from /proc/self/mountinfo.
int MountsBelow(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.find(" " + dir + "/") != std::string::npos;
  return n;
}

TEST_F(DockerBackendTest, PinsAreNeitherStackedNorLeakedAcrossRestartReconcileAndDelete) {
  auto d = Pod("u11", R"({"containers":[{"name":"a","image":"img","volumeMounts":[
      {"name":"e","mountPath":"/m","subPath":"x"}]}],"volumes":[{"name":"e","emptyDir":{}}]})");
  ASSERT_TRUE(Create(d).ok());
  std::string pin = settings_.PodDir("u11") + "/pins/a/0";
  auto mounts = engine_->create_body("il-ns_p-u11_a_u11").at("HostConfig").at("Mounts");
  EXPECT_EQ(
      mounts.at(0),
      (json::object{{"Type", "bind"}, {"Source", pin}, {"Target", "/m"}, {"ReadOnly", false}}));
  if (::geteuid() != 0) GTEST_SKIP() << "mount(2) needs root";
  EXPECT_EQ(MountsBelow(root_), 1);
  // A pod directory no stored pod owns, with a pin left by an earlier docker-sd, whose
  // source lies outside: reconcile detaches the pin before removing the directory.
  fs::create_directories(root_ + "/keep");
  { std::ofstream(root_ + "/keep/f") << "x"; }
  ASSERT_TRUE(
      PinBindSource({root_ + "/keep", "", false, settings_.PodDir("ghost") + "/pins/a/0"}).ok());
  EXPECT_EQ(MountsBelow(root_), 2);
  Open();  // a new docker-sd: the mounts outlived the old one
  backend_->RunOnce();
  EXPECT_FALSE(fs::exists(settings_.PodDir("ghost")));
  EXPECT_TRUE(fs::exists(root_ + "/keep/f"));
  EXPECT_EQ(MountsBelow(root_), 1);
  engine_->Exit("il-ns_p-u11_a_u11", 1);
  backend_->RunOnce();  // whatever docker-sd starts again is pinned again, not stacked
  EXPECT_EQ(MountsBelow(root_), 1);
  ASSERT_TRUE(backend_->Delete({}, d.pod).ok());
  EXPECT_EQ(MountsBelow(root_), 0);
  EXPECT_FALSE(fs::exists(settings_.PodDir("u11")));
}

TEST_F(DockerBackendTest, ContainerRemovedBehindOurBackIsUnknown) {
  auto d = Pod("u11", R"({"containers":[{"name":"a","image":"img"}]})");
  ASSERT_TRUE(Create(d).ok());
  engine_->Remove("il-ns_p-u11_a_u11");
  EXPECT_EQ(Status1(d).containers[0].at("state").at("terminated").at("reason"),
            "ContainerStatusUnknown");
}

TEST_F(DockerBackendTest, ContainersCreatedWhileStatusIsTakenAreNotReportedLost) {
  // The status pass asks Docker, then reads the pod's stage: if the worker starts the app
  // containers in between, they must read as creating, not as ContainerStatusUnknown (a
  // terminal state the vk would keep, failing a pod that then runs fine).
  auto d = Pod("u19", R"({"restartPolicy":"Never","initContainers":[{"name":"i","image":"img"}],
      "containers":[{"name":"a","image":"img"}]})");
  ASSERT_TRUE(Create(d).ok());
  engine_->AfterNextInspectOf("il-ns_p-u19_a_u19", [&] {
    engine_->Exit("il-ns_p-u19_i_u19", 0);
    backend_->RunOnce();  // init done -> the app container is created, the pod is running
  });
  auto s = Status1(d);
  ASSERT_EQ(s.containers.size(), 1u);
  EXPECT_EQ(StateOf(s.containers[0]), "waiting") << json::serialize(s.containers[0]);
  EXPECT_EQ(StateOf(Status1(d).containers[0]), "running");
}

TEST_F(DockerBackendTest, DaemonDownIsUnavailableEverywhereAndCreateLeavesNothing) {
  engine_->SetDown(true);
  auto d = Pod("u12", R"({"containers":[{"name":"a","image":"img"}]})");
  auto r = Create(d);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(backend_->pod_count(), 0u);
  EXPECT_EQ(backend_->Ping({}).status().code(), StatusCode::kUnavailable);
  engine_->SetDown(false);
  ASSERT_TRUE(Create(d).ok());
  engine_->SetDown(true);
  EXPECT_EQ(backend_->GetStatus({}, {d.pod}).status().code(), StatusCode::kUnavailable);
}

TEST_F(DockerBackendTest, PingReportsCapacity) {
  auto p = backend_->Ping({});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->status, "ok");
  EXPECT_EQ(p->resources.at("cpu"), "4");
  EXPECT_EQ(p->resources.at("memory"), "8388608Ki");
}

TEST_F(DockerBackendTest, LogsAreMergedAndValidated) {
  auto d = Pod(
      "u13",
      R"({"containers":[{"name":"a","image":"img"},{"name":"b","image":"nosuch","imagePullPolicy":"Never"}]})");
  ASSERT_TRUE(Create(d).ok());
  api::LogRequest req{"ns", "u13", "p-u13", "a", {}};
  StringSink sink;
  ASSERT_TRUE(backend_->GetLogs({}, req, sink).ok());
  EXPECT_EQ(sink.data, "hello\noops\nworld\n");
  auto logs = engine_->calls_with("logs");
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0],
            (std::vector<std::string>{"docker", "logs", "--timestamps", "il-ns_p-u13_a_u13"}));
  // Follow: the demultiplexed stream is copied as it arrives, whole lines per stream.
  req.opts.follow = true;
  StringSink followed;
  ASSERT_TRUE(backend_->GetLogs({}, req, followed).ok());
  EXPECT_EQ(followed.data, "hello\nworld\noops\n");
  EXPECT_EQ(engine_->calls_with("logs").back(),
            (std::vector<std::string>{"docker", "logs", "--follow", "il-ns_p-u13_a_u13"}));
  req.opts.follow = false;
  req.container = "b";
  Status waiting = backend_->GetLogs({}, req, sink);
  EXPECT_EQ(waiting.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(waiting.message().find("waiting to start: ErrImageNeverPull"), std::string::npos);
  req.container = "";
  EXPECT_EQ(backend_->GetLogs({}, req, sink).code(), StatusCode::kInvalidArgument);
  req.container = "zzz";
  EXPECT_EQ(backend_->GetLogs({}, req, sink).code(), StatusCode::kNotFound);
  req.pod_uid = "nope";
  EXPECT_EQ(backend_->GetLogs({}, req, sink).code(), StatusCode::kNotFound);
}

TEST_F(DockerBackendTest, SandboxImageIsImportedWhenMissing) {
  DockerSettings s = settings_;
  auto d = Pod("u14", R"({"containers":[{"name":"a","image":"img"},{"name":"b","image":"img"}]})");
  // Make the engine forget the pause image by using another tag.
  settings_.pause_image = "interlink/docker-sd-pause:test";
  Open();
  ASSERT_TRUE(Create(d).ok());
  EXPECT_EQ(engine_->calls_with("import").size(), 1u);
  EXPECT_EQ(StateOf(Status1(d).containers[1]), "running");
  settings_ = s;
}

TEST_F(DockerBackendTest, StatusWatchIsWokenByCreateDockerEventsAndDelete) {
  using namespace std::chrono_literals;
  ASSERT_TRUE(backend_->SupportsStatusWatch());
  api::CallContext ctx;
  auto first = backend_->WatchStatus(ctx, "", 0ms, nullptr);  // "from now": reset + cursor
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->reset);
  std::string cursor = first->cursor;

  auto d = Pod("u15", R"({"containers":[{"name":"c","image":"img"}]})");
  ASSERT_TRUE(Create(d).ok());
  auto w = backend_->WatchStatus(ctx, cursor, 5s, nullptr);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->uids, std::vector<std::string>{"u15"});
  cursor = w->cursor;
  // Nothing changed since: the watch waits and answers no UIDs at its timeout.
  auto idle = backend_->WatchStatus(ctx, cursor, 50ms, nullptr);
  ASSERT_TRUE(idle.ok());
  EXPECT_TRUE(idle->uids.empty());
  EXPECT_FALSE(idle->reset);

  // A Docker "die" event of the pod's container (the events stream, not a poll) wakes it.
  DockerBackendOptions o;
  o.poll_interval = std::chrono::hours(1);  // no poll can be what answers
  o.retry_backoff = 0ms;
  backend_.reset();
  auto b = DockerBackend::Create(settings_, o);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  backend_ = std::move(*b);
  auto fresh = backend_->WatchStatus(ctx, "", 0ms, nullptr);
  ASSERT_TRUE(fresh.ok());
  for (int i = 0; i < 500 && engine_->calls_with("events").empty(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(engine_->calls_with("events").empty());
  std::this_thread::sleep_for(50ms);  // the stream has begun on the engine's side
  engine_->Exit("il-ns_p-u15_c_u15", 3);
  auto died = backend_->WatchStatus(ctx, fresh->cursor, 5s, nullptr);
  ASSERT_TRUE(died.ok());
  EXPECT_EQ(died->uids, std::vector<std::string>{"u15"});

  ASSERT_TRUE(backend_->Delete({}, d.pod).ok());
  auto gone = backend_->WatchStatus(ctx, died->cursor, 5s, nullptr);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->uids, std::vector<std::string>{"u15"});
}

// dockerd 20.10 sets State.OOMKilled only when the kernel's OOM notice beats the exit; when
// its "oom" event comes after the "die" event, inspect says OOMKilled=false for good. The
// event stream's late "oom" still makes the exit OOMKilled, as containerd's CRI reports it.
TEST_F(DockerBackendTest, ADockerOomEventAfterTheDieMakesTheExitOomKilled) {
  using namespace std::chrono_literals;
  DockerBackendOptions o;
  o.poll_interval = std::chrono::hours(1);
  o.retry_backoff = 0ms;
  backend_.reset();
  auto b = DockerBackend::Create(settings_, o);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  backend_ = std::move(*b);
  api::CallContext ctx;
  auto d = Pod("u23", R"({"restartPolicy":"Never","containers":[{"name":"c","image":"img"}]})");
  ASSERT_TRUE(Create(d).ok());
  for (int i = 0; i < 500 && engine_->calls_with("events").empty(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(engine_->calls_with("events").empty());
  std::this_thread::sleep_for(50ms);  // the stream has begun on the engine's side
  auto cursor = backend_->WatchStatus(ctx, "", 0ms, nullptr);
  ASSERT_TRUE(cursor.ok());
  auto reason = [&] {
    auto s = Status1(d);
    if (s.containers.size() != 1) return std::string("?");
    const auto* t = s.containers[0].at("state").as_object().if_contains("terminated");
    return t ? api::GetString(*t, {"reason"}) : std::string("not terminated");
  };

  engine_->Exit("il-ns_p-u23_c_u23", 137);
  auto died = backend_->WatchStatus(ctx, cursor->cursor, 5s, nullptr);
  ASSERT_TRUE(died.ok());
  EXPECT_EQ(reason(), "Error");  // inspect's OOMKilled is false, and no oom event yet

  engine_->Oom("il-ns_p-u23_c_u23", 56);
  auto oom = backend_->WatchStatus(ctx, died->cursor, 5s, nullptr);
  ASSERT_TRUE(oom.ok());
  EXPECT_EQ(oom->uids, std::vector<std::string>{"u23"});
  EXPECT_EQ(reason(), "OOMKilled");
}

TEST_F(DockerBackendTest, EnvTravelsInTheCreateBodyOnlyNeverInTheStateFile) {
  auto d = Pod("u17", R"({"containers":[{"name":"c","image":"img","env":[
      {"name":"SECRET","value":"s3cr3t\nline2 $(X) ;rm"},{"name":"DOCKER_HOST","value":"tcp://x"}]}]})");
  ASSERT_TRUE(Create(d).ok());
  auto env = engine_->create_body("il-ns_p-u17_c_u17").at("Env");
  EXPECT_EQ(env, (json::array{"SECRET=s3cr3t\nline2 $(X) ;rm", "DOCKER_HOST=tcp://x"}));
  std::string db;  // the database and its write-ahead log
  for (const std::string& f : {settings_.state_file, settings_.state_file + "-wal"}) {
    std::ifstream in(f, std::ios::binary);
    db.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_EQ(db.find("s3cr3t"), std::string::npos);
  EXPECT_NE(db.find("il-ns_p-u17_c_u17"), std::string::npos);  // the row is there
}

// A state row written by a docker-sd that ran `docker run` (its plan has runArgs, no
// createBody): it still loads; its containers are inspected and removed by name, and one
// that is gone is reported instead of being created from the old argv.
TEST_F(DockerBackendTest, OldStateRowsWithRunArgsStillLoad) {
  backend_.reset();
  {
    auto store = StateStore::Open(settings_.state_file);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::string instance = (*store)->instance_id();
    json::object plan{
        {"uid", "old1"},
        {"namespace", "ns"},
        {"name", "p-old1"},
        {"restartPolicy", "Always"},
        {"graceSeconds", 30},
        {"containers",
         json::array{
             json::object{{"role", "sandbox"},
                          {"name", "POD"},
                          {"dockerName", "il-ns_p-old1_POD_old1"},
                          {"image", "interlink/docker-sd-pause:1"},
                          {"runArgs", json::array{"run", "--detach", "--name=il-ns_p-old1_POD_old1",
                                                  "--", "interlink/docker-sd-pause:1"}}},
             json::object{{"role", "app"},
                          {"name", "a"},
                          {"dockerName", "il-ns_p-old1_a_old1"},
                          {"image", "img"},
                          {"runArgs", json::array{"run", "--detach", "--name=il-ns_p-old1_a_old1",
                                                  "--env-file=/x/a.env", "--", "img"}}},
             json::object{{"role", "app"},
                          {"name", "b"},
                          {"dockerName", "il-ns_p-old1_b_old1"},
                          {"image", "img"},
                          {"runArgs", json::array{"run", "--detach", "--name=il-ns_p-old1_b_old1",
                                                  "--", "img"}}}}}};
    ASSERT_TRUE((*store)->Insert({"old1", json::serialize(plan), "pending", 1, ""}).ok());
    std::map<std::string, std::string> labels{{"io.kubernetes.pod.uid", "old1"},
                                              {"interlink.docker-sd.instance", instance}};
    engine_->AddForeign("il-ns_p-old1_POD_old1", labels);
    engine_->AddForeign("il-ns_p-old1_a_old1", labels);
  }
  Open();
  EXPECT_EQ(backend_->pod_count(), 1u);
  backend_->RunOnce();
  EXPECT_TRUE(engine_->calls_with("create").empty());  // never from the old argv
  auto d = Pod("old1", R"({"containers":[{"name":"a","image":"img"},{"name":"b","image":"img"}]})");
  auto s = Status1(d);
  ASSERT_EQ(s.containers.size(), 2u);
  EXPECT_EQ(StateOf(s.containers[0]), "running");
  EXPECT_EQ(s.containers[1].at("state").at("waiting").at("reason"), "CreateContainerConfigError");
  ASSERT_TRUE(backend_->Delete({}, d.pod).ok());
  EXPECT_FALSE(engine_->containers().count("il-ns_p-old1_a_old1"));
  EXPECT_EQ(backend_->pod_count(), 0u);
}

}  // namespace
}  // namespace il::docker
