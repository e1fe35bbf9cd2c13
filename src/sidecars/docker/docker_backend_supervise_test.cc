// DockerBackend with probes, hooks and termination messages, on the fake engine, with the
// prober driven by hand (no threads, an injected clock) and handlers faked.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "api/pod.h"
#include "sidecars/docker/bind_source.h"
#include "sidecars/docker/docker_backend.h"
#include "sidecars/docker/fake_docker_engine.h"

namespace il::docker {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

// Answers by the handler's first command word; records what ran and how many docker calls
// had been made by then (to check the order against `docker stop`).
class FakeHandlers : public HandlerRunner {
 public:
  std::map<std::string, Outcome> answer;
  std::vector<std::pair<std::string, size_t>> ran;
  const FakeDockerEngine* engine = nullptr;  // counts its calls when set
  HandlerResult Run(const api::Handler& h, const HandlerTarget&, std::chrono::milliseconds,
                    HandlerMode) override {
    std::lock_guard l(mu_);
    std::string k = h.command.empty() ? "" : h.command[0];
    ran.emplace_back(k, engine ? engine->verbs().size() : 0);
    auto it = answer.find(k);
    Outcome o = it == answer.end() ? Outcome::kSuccess : it->second;
    return {o, o == Outcome::kSuccess ? "" : k + " said no"};
  }

 private:
  std::mutex mu_;
};

class SuperviseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("il-dbs-" + std::to_string(::getpid()) + "-" +
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
    handlers_.engine = engine_.get();
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
    o.handlers = &handlers_;
    o.prober.start_threads = false;
    o.prober.now = [this] { return now_; };
    o.prober.jitter = [] { return 0.0; };
    auto b = DockerBackend::Create(settings_, o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(*b);
  }
  static api::RetrievedPodData Pod(const std::string& uid, const std::string& spec) {
    api::RetrievedPodData d;
    d.pod = json::parse(R"({"metadata":{"name":"p","namespace":"ns","uid":")" + uid +
                        R"("},"spec":)" + spec + "}");
    return d;
  }
  json::object Container0(const api::RetrievedPodData& d) {
    auto s = backend_->GetStatus({}, {d.pod});
    EXPECT_TRUE(s.ok() && s->size() == 1);
    last_events_ = (*s)[0].events;
    return (*s)[0].containers.at(0).as_object();
  }
  // One worker round, then every probe due one second later, then what they started.
  void Round() {
    backend_->RunOnce();
    backend_->JoinTasks();
    now_ += std::chrono::seconds(1);
    backend_->prober().RunDue();
    backend_->JoinTasks();
  }
  std::vector<std::string> Reasons() {
    std::vector<std::string> out;
    for (const auto& e : last_events_) out.push_back(api::GetString(e, {"reason"}));
    return out;
  }

  std::string root_;
  DockerSettings settings_;
  FakeHandlers handlers_;
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
  std::unique_ptr<FakeDockerEngine> engine_;
  std::unique_ptr<DockerBackend> backend_;
  json::array last_events_;
};

constexpr char kLive[] = R"({"restartPolicy":"%s","terminationGracePeriodSeconds":3,
  "containers":[{"name":"c","image":"img",
    "livenessProbe":{"exec":{"command":["live"]},"periodSeconds":1,"failureThreshold":1},
    "readinessProbe":{"exec":{"command":["ready"]},"periodSeconds":1,"failureThreshold":1}}]})";

std::string Spec(const char* fmt, const std::string& policy) {
  std::string s = fmt;
  s.replace(s.find("%s"), 2, policy);
  return s;
}

TEST_F(SuperviseTest, ReadinessReachesTheStatus) {
  auto d = Pod("u1", Spec(kLive, "Always"));
  ASSERT_TRUE(backend_->Create({}, d).ok());
  EXPECT_FALSE(Container0(d).at("ready").as_bool());  // not probed yet
  Round();
  auto c = Container0(d);
  EXPECT_TRUE(c.at("started").as_bool());
  EXPECT_TRUE(c.at("ready").as_bool());
  handlers_.answer["ready"] = Outcome::kFailure;
  Round();
  EXPECT_FALSE(Container0(d).at("ready").as_bool());
  EXPECT_EQ(Reasons(), std::vector<std::string>{"Unhealthy"});
  EXPECT_EQ(api::GetString(last_events_[0], {"message"}), "Readiness probe failed: ready said no");
}

TEST_F(SuperviseTest, LivenessFailureStopsAndRestartsWithCountAndLastStateAcrossARestart) {
  auto d = Pod("u1", Spec(kLive, "Always"));
  ASSERT_TRUE(backend_->Create({}, d).ok());
  Round();
  handlers_.answer["live"] = Outcome::kFailure;
  Round();  // probe fails: kill (docker stop), restart owed at once
  auto stops = engine_->calls_with("stop");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0][2], "--time=3");
  auto c = Container0(d);
  EXPECT_EQ(api::GetString(c, {"state", "waiting", "reason"}), "CrashLoopBackOff");
  handlers_.answer["live"] = Outcome::kSuccess;
  Round();  // the owed restart: a second start (the first came with the create)
  ASSERT_EQ(engine_->calls_with("start").size(), 2u);
  c = Container0(d);
  EXPECT_TRUE(c.at("state").as_object().contains("running"));
  EXPECT_EQ(api::GetInt(c, {"restartCount"}), 1);
  EXPECT_EQ(api::GetInt(c, {"lastState", "terminated", "exitCode"}), 143);
  EXPECT_EQ(api::GetString(c, {"lastState", "terminated", "reason"}), "Error");
  EXPECT_EQ(Reasons(), (std::vector<std::string>{"Unhealthy", "Killing"}));
  EXPECT_EQ(api::GetString(last_events_[1], {"message"}),
            "Container c failed liveness probe, will be restarted");
  // docker-sd restarts: the count and the last state come back from the state file, and
  // nothing is started again.
  Open();
  Round();
  c = Container0(d);
  EXPECT_EQ(api::GetInt(c, {"restartCount"}), 1);
  EXPECT_EQ(api::GetInt(c, {"lastState", "terminated", "exitCode"}), 143);
  EXPECT_EQ(engine_->calls_with("start").size(), 2u);
}

TEST_F(SuperviseTest, LivenessFailureUnderNeverEndsTerminated) {
  auto d = Pod("u1", Spec(kLive, "Never"));
  ASSERT_TRUE(backend_->Create({}, d).ok());
  handlers_.answer["live"] = Outcome::kFailure;
  Round();
  Round();
  auto c = Container0(d);
  EXPECT_EQ(api::GetInt(c, {"state", "terminated", "exitCode"}), 143);
  EXPECT_EQ(api::GetInt(c, {"restartCount"}), 0);
  EXPECT_EQ(engine_->calls_with("start").size(), 1u);  // the create's only: no restart
  EXPECT_EQ(api::GetString(last_events_.back(), {"message"}), "Container c failed liveness probe");
}

TEST_F(SuperviseTest, PostStartRunsOnceAndHoldsTheContainerUntilItReturns) {
  auto d = Pod("u1", R"({"containers":[{"name":"c","image":"img",
      "lifecycle":{"postStart":{"exec":{"command":["hook"]}}}}]})");
  ASSERT_TRUE(backend_->Create({}, d).ok());
  EXPECT_EQ(api::GetString(Container0(d), {"state", "waiting", "reason"}), "ContainerCreating");
  Round();
  EXPECT_TRUE(Container0(d).at("state").as_object().contains("running"));
  Open();  // a restart of docker-sd does not run it again for the same instance
  Round();
  size_t hooks = 0;
  for (const auto& [k, n] : handlers_.ran) hooks += k == "hook";
  EXPECT_EQ(hooks, 1u);
}

TEST_F(SuperviseTest, FailingPostStartKillsWithTheKubeletsReason) {
  auto d = Pod("u1", R"({"terminationGracePeriodSeconds":1,"containers":[{"name":"c","image":"img",
      "lifecycle":{"postStart":{"exec":{"command":["hook","x"]}}}}]})");
  ASSERT_TRUE(backend_->Create({}, d).ok());
  handlers_.answer["hook"] = Outcome::kFailure;
  Round();
  auto c = Container0(d);
  EXPECT_EQ(api::GetString(c, {"state", "waiting", "reason"}), "PostStartHookError");
  EXPECT_EQ(api::GetString(c, {"state", "waiting", "message"}),
            "Exec lifecycle hook ([hook x]) for Container \"c\" in Pod \"p_ns(u1)\" failed - "
            "error: command 'hook x' failed, message: \"hook said no\"");
  EXPECT_EQ(Reasons(), (std::vector<std::string>{"FailedPostStartHook", "Killing"}));
}

TEST_F(SuperviseTest, DeleteRunsPreStopBeforeTheStop) {
  auto d = Pod("u1", R"({"containers":[{"name":"c","image":"img",
      "lifecycle":{"preStop":{"exec":{"command":["bye"]}}}}]})");
  ASSERT_TRUE(backend_->Create({}, d).ok());
  ASSERT_TRUE(backend_->Delete({}, d.pod).ok());
  ASSERT_EQ(handlers_.ran.size(), 1u);
  EXPECT_EQ(handlers_.ran[0].first, "bye");
  auto verbs = engine_->verbs();
  size_t stop_at = 0;
  for (size_t i = 0; i < verbs.size(); ++i) {
    if (verbs[i] == "stop") stop_at = i;
  }
  EXPECT_LE(handlers_.ran[0].second, stop_at);  // the hook ran before `docker stop`
}

TEST_F(SuperviseTest, TerminationMessageFromTheFileOrTheLogs) {
  engine_->AddImage("exit1");
  auto d = Pod("u1", R"({"restartPolicy":"Never","containers":[
      {"name":"f","image":"exit1"},
      {"name":"l","image":"exit1","terminationMessagePolicy":"FallbackToLogsOnError"}]})");
  ASSERT_TRUE(backend_->Create({}, d).ok());
  std::ofstream(settings_.PodDir("u1") + "/termination/f") << std::string(5000, 'x') << "end";
  auto s = backend_->GetStatus({}, {d.pod});
  ASSERT_TRUE(s.ok());
  std::string f = api::GetString((*s)[0].containers[0], {"state", "terminated", "message"});
  EXPECT_EQ(f.size(), 4096u);
  EXPECT_EQ(f.substr(f.size() - 3), "end");
  EXPECT_NE(api::GetString((*s)[0].containers[1], {"state", "terminated", "message"}).find("oops"),
            std::string::npos);
}

}  // namespace
}  // namespace il::docker
